import { randomUUID } from "node:crypto";
import type { RelayConfig } from "../config/types";
import { installationLane } from "../outbox/lanes";
import type { Outbox } from "../outbox/outbox";
import { readDownstreamRuns } from "../records/check-runs";
import { completeDelivery } from "../records/deliveries";
import type { DispatchRecord } from "../records/dispatches";
import { newDispatchOps } from "./relay-delivery";
import type { Store, WriteOp } from "../store/store";
import { checkRunOpsForDispatch } from "../checks/check-run-effects";
import { RERUN_TASK, type RerunMode } from "../checks/rerun-downstream-task";

/** What a re-run reads (the downstream runs) and writes through. */
export interface RerunDeps {
  store: Store;
  outbox: Outbox;
}

export interface RerunRequest {
  /** the `rerequested` delivery: it is acted on once, however often it is redelivered */
  deliveryId: string;
  dispatches: DispatchRecord[];
  mode: RerunMode;
}

/**
 * SPEC §3 re-run from the upstream PR UI: each dispatch whose downstream Actions run is known is
 * re-run there (and its check queued again); one with no run yet, or sent to a queue, is dispatched
 * again as a new dispatch.
 * All of it is stored in one write with the delivery's claim. False when the delivery was handled.
 */
export async function rerunCheckRuns(
  relay: RerunDeps,
  config: RelayConfig,
  request: RerunRequest,
  now: number,
): Promise<boolean> {
  const runs = await readDownstreamRuns(
    relay.store,
    request.dispatches.map((d) => d.requestId),
  );
  const ops: WriteOp[] = [];
  request.dispatches.forEach((record, i) => {
    const run = runs[i];
    // A queue downstream's "run" is a job request, not a GitHub Actions run: it is requested again.
    if (run !== null && record.transport === "dispatch") {
      ops.push(
        ...relay.outbox.enqueueOps(
          {
            id: `${RERUN_TASK}:${request.deliveryId}:${record.requestId}`,
            kind: RERUN_TASK,
            lane: installationLane(record.downstream),
            data: { downstream: record.downstream, runId: run.runId, mode: request.mode },
          },
          now,
        ),
        ...checkRunOpsForDispatch(relay.outbox, config, record, true, now),
      );
      return;
    }
    const again: DispatchRecord = {
      ...record,
      requestId: randomUUID(),
      state: "pending",
      createdAt: now,
      dispatchedAt: null,
      lastError: null,
      attempts: 0,
      nextAttemptAt: null,
      failedAt: null,
    };
    ops.push(...newDispatchOps(relay.outbox, config, again, { deliveryId: request.deliveryId, showChecks: true }, now));
  });
  return completeDelivery(relay.store, request.deliveryId, null, ops);
}
