import { createHash } from "node:crypto";
import { z } from "zod";
import type { Store } from "../store/store";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * SPEC §6 idempotent broker writes: one record per (caller repository, requestId), first a claim
 * ("pending", with when it was taken), then the result ("done"). The scope is hashed: request ids
 * are the caller's own text.
 */
export const idempotentWriteSchema = z.discriminatedUnion("state", [
  z.object({ state: z.literal("pending"), fingerprint: z.string(), claimedAt: z.number() }),
  z.object({ state: z.literal("done"), fingerprint: z.string(), result: z.unknown() }),
]);
export type IdempotentWriteRecord = z.infer<typeof idempotentWriteSchema>;

/** Where one caller's write of one requestId is recorded. */
export function idempotentWriteKey(callerRepository: string, requestId: string): string {
  return keys.idempotentWrite(
    createHash("sha256").update(`${callerRepository.toLowerCase()}\n${requestId}`).digest("hex"),
  );
}

type WriteStore = Pick<Store, "setIfAbsent" | "get" | "compareAndSet" | "write">;

/** One caller's write of one requestId: its stored record and how it changes. */
export function idempotentWriteRecord(
  store: WriteStore,
  callerRepository: string,
  requestId: string,
  ttlSeconds: number,
) {
  const key = idempotentWriteKey(callerRepository, requestId);
  const text = (record: IdempotentWriteRecord) => JSON.stringify(record);
  return {
    /** Takes the claim when there is no record; true when taken. */
    claim: (record: IdempotentWriteRecord) => store.setIfAbsent(key, text(record), ttlSeconds),
    /** The record as text (for `takeOver`) and parsed; null when absent. */
    read: async (): Promise<{ raw: string; record: IdempotentWriteRecord } | null> => {
      const raw = await store.get(key);
      const record = readRecord("idempotent write", idempotentWriteSchema, raw);
      return raw === null || record === null ? null : { raw, record };
    },
    /** Replaces a stale claim, if it is still `raw`; true when replaced. */
    takeOver: (raw: string, record: IdempotentWriteRecord) => store.compareAndSet(key, raw, text(record), ttlSeconds),
    finish: (record: IdempotentWriteRecord) => store.write([{ op: "set", key, value: text(record), ttlSeconds }]),
    release: () => store.write([{ op: "del", key }]),
  };
}
