import type { JobTransition } from "../jobs/job-transition";
import type { RelayConfig } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import { dispatchKey, parseDispatchRecord, type DispatchRecord } from "../relay/dispatch-record";
import type { Store } from "../store/store";
import { CHECK_DEADLINES } from "./check-deadlines";
import { checkRunOpsForTransition } from "./check-run-effects";
import { downstreamRunKey, isUnfinished, parseCheckRunState, wantedCheckKey, type CheckRunState, type DownstreamRun } from "./check-run-state";

export interface CheckTimeoutDeps {
  store: Store;
  outbox: Outbox;
}

/**
 * SPEC §3: concludes as `timed_out` a check run whose deadline (CHECK_DEADLINES) passed: no callback
 * within `pickup_timeout_minutes`, or in progress longer than `job_timeout_minutes`. Acts on one check
 * key as the timeout sweep (src/timeouts) claims them, with the score it claimed it with; true when it
 * concluded the check run (its writes are outbox tasks).
 */
export async function timeOutCheckRun(relay: CheckTimeoutDeps, config: RelayConfig, key: string, leasedScore: number, now: number): Promise<boolean> {
  const raw = await relay.store.get(wantedCheckKey(key));
  // Read after the wanted state: a decision that re-queued the check since the claim set a new
  // deadline (a new score), and that state is not the one that timed out.
  if ((await relay.store.zscore(CHECK_DEADLINES, key)) !== leasedScore) return false;
  const want = parseCheckRunState(raw);
  const record = want && parseDispatchRecord(await relay.store.get(dispatchKey(want.requestId)));
  if (!isUnfinished(want) || !record) {
    // Finished meanwhile (or expired): the deadline is stale. Unless a re-run has queued the check
    // again since it was read: its new deadline is the same member, so it stays.
    await relay.store.writeIf(wantedCheckKey(key), raw, [{ op: "zrem", key: CHECK_DEADLINES, member: key }]);
    return false;
  }
  const rawRun = await relay.store.get(downstreamRunKey(want.requestId));
  const transition = timedOutTransition(record, want, rawRun === null ? null : (JSON.parse(rawRun) as DownstreamRun), now);
  // Lost to a callback that changed the check meanwhile: its lease runs out and it is looked at again.
  return relay.store.writeIf(wantedCheckKey(key), raw, checkRunOpsForTransition(relay, config, transition, now));
}

/** The transition a timeout is: from where the check run stands to TIMED_OUT. Pure. */
export function timedOutTransition(record: DispatchRecord, want: CheckRunState, run: DownstreamRun | null, now: number): JobTransition {
  const pickedUp = want.status !== "queued";
  return {
    dispatch: record,
    scope: want.job === null ? "run" : "job",
    jobName: want.job,
    runId: run?.runId ?? "",
    runAttempt: run?.attempt ?? "1",
    from: pickedUp ? "IN_PROGRESS" : "DISPATCHED",
    to: "TIMED_OUT",
    conclusion: "timed_out",
    detailsUrl: want.detailsUrl ?? run?.url ?? null,
    workflowName: want.workflow,
    summary: pickedUp ? "No result arrived within the job timeout." : "No callback arrived within the pickup timeout.",
    queueTimeSeconds: null,
    executionTimeSeconds: null,
    at: now,
  };
}
