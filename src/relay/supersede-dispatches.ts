import type { PullRequestHead } from "../checks/supersede-check-runs";
import type { Metrics } from "../metrics/metrics";
import type { Outbox } from "../outbox/outbox";
import type { Store } from "../store/store";
import {
  parseDispatchRecord,
  readRawDispatch,
  updatedDispatchOp,
  writeIfDispatchIs,
  type DispatchRecord,
  type StoredDispatch,
} from "../records/dispatches";
import { dispatchTaskId } from "./relay-delivery";

/**
 * Which of a PR's dispatches a new head makes pointless: not sent yet, for another SHA, and older
 * than the head's own dispatches (so a late redelivery of an older head's event never drops the
 * newer head's work). With no dispatch of the head recorded yet, every other SHA's is older. Pure.
 */
export function supersededDispatches(records: readonly DispatchRecord[], headSha: string): DispatchRecord[] {
  const ofHead = records.filter((r) => r.upstream.sha === headSha).map((r) => r.createdAt);
  const newest = ofHead.length === 0 ? Number.POSITIVE_INFINITY : Math.max(...ofHead);
  return records.filter((r) => r.state === "pending" && r.upstream.sha !== headSha && r.createdAt < newest);
}

/** What dropping superseded dispatches reads, writes through and counts. */
export interface SupersedeDispatchesDeps {
  store: Store;
  outbox: Outbox;
  metrics: Pick<Metrics, "dispatches">;
}

/**
 * When a PR gets a new head SHA, dispatches of its older SHAs not yet sent are dropped as
 * `superseded` (recorded on the dispatch, so the dashboard and `/relay/v1/deliveries` show it) and
 * their outbox tasks removed with it, so a burst of pushes leaves no backlog of stale dispatches.
 * `dispatches` are the PR's, as read once per delivery (`recordedDispatchesAsStored`). Each record
 * changes only if nothing else changed it meanwhile (a task sending it). Returns how many.
 */
export async function supersedeDispatches(
  relay: SupersedeDispatchesDeps,
  head: PullRequestHead,
  dispatches: readonly StoredDispatch[],
  now: number,
): Promise<number> {
  const stale = new Set(
    supersededDispatches(
      dispatches.map(({ record }) => record),
      head.sha,
    ).map(({ requestId }) => requestId),
  );
  let dropped = 0;
  for (const listed of dispatches.filter(({ record }) => stale.has(record.requestId))) {
    // The text as listed is usually still current; when something changed the record since, it is
    // read again and decided afresh, as if it had been read just now.
    const superseded =
      (await supersedeIfStill(relay, head, listed, now)) ??
      (await supersedeIfStill(relay, head, await readStoredDispatch(relay.store, listed.record.requestId), now));
    if (superseded) {
      dropped += 1;
      relay.metrics.dispatches.inc({ transport: superseded.transport, outcome: "superseded" });
    }
  }
  return dropped;
}

async function readStoredDispatch(store: Store, requestId: string): Promise<StoredDispatch | null> {
  const raw = await readRawDispatch(store, requestId);
  const record = parseDispatchRecord(raw);
  return raw === null || record === null ? null : { record, raw };
}

/** Drops the dispatch if it is still pending and stored as `stored.raw`; the record dropped, or null. */
async function supersedeIfStill(
  relay: SupersedeDispatchesDeps,
  head: PullRequestHead,
  stored: StoredDispatch | null,
  now: number,
): Promise<DispatchRecord | null> {
  if (stored?.record.state !== "pending") return null;
  const { record, raw } = stored;
  const next: DispatchRecord = {
    ...record,
    state: "superseded",
    supersededBy: head.sha,
    supersededAt: now,
    nextAttemptAt: null,
  };
  const ops = [
    updatedDispatchOp(next),
    ...(await relay.outbox.dropOps(dispatchTaskId(record.transport, record.deliveryId, record.downstream))),
  ];
  return (await writeIfDispatchIs(relay.store, record.requestId, raw, ops)) ? record : null;
}
