import type { PullRequestHead } from "../checks/supersede-check-runs";
import type { Metrics } from "../metrics/metrics";
import type { Outbox } from "../outbox/outbox";
import type { Store } from "../store/store";
import { recordedDispatches } from "../checks/recorded-dispatches";
import {
  parseDispatchRecord,
  readRawDispatch,
  updatedDispatchOp,
  writeIfDispatchIs,
  type DispatchRecord,
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

/**
 * When a PR gets a new head SHA, dispatches of its older SHAs not yet sent are dropped as
 * `superseded` (recorded on the dispatch, so the dashboard and `/relay/v1/deliveries` show it) and
 * their outbox tasks removed with it, so a burst of pushes leaves no backlog of stale dispatches.
 * Each record changes only if nothing else changed it meanwhile (a task sending it). Returns how many.
 */
/** What dropping superseded dispatches reads, writes through and counts. */
export interface SupersedeDispatchesDeps {
  store: Store;
  outbox: Outbox;
  metrics: Pick<Metrics, "dispatches">;
}

export async function supersedeDispatches(
  relay: SupersedeDispatchesDeps,
  head: PullRequestHead,
  now: number,
): Promise<number> {
  const stale = supersededDispatches(
    await recordedDispatches(relay.store, { repo: head.repo, pr: head.number }),
    head.sha,
  );
  let dropped = 0;
  for (const { requestId } of stale) {
    const raw = await readRawDispatch(relay.store, requestId);
    const record = parseDispatchRecord(raw);
    if (record?.state !== "pending") continue;
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
    if (await writeIfDispatchIs(relay.store, requestId, raw, ops)) {
      dropped += 1;
      relay.metrics.dispatches.inc({ transport: record.transport, outcome: "superseded" });
    }
  }
  return dropped;
}
