import type { Store } from "../store/store";
import { keys } from "./keys";

/** Approximate cap (MAXLEN ~): the stream is a recent window for operators; AUDIT_LOG keeps everything. */
const AUDIT_STREAM_MAX_LEN = 10_000;

/** SPEC §6: appends one audit record (its JSON line) to the capped stream `relay:audit`. */
export async function appendAuditRecord(store: Pick<Store, "write">, line: string): Promise<void> {
  await store.write([{ op: "xadd", key: keys.audit, fields: { record: line }, maxLen: AUDIT_STREAM_MAX_LEN }]);
}
