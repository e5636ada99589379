import type { JobTransition } from "../jobs/job-transition";
import type { RelayConfig } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import {
  parseCheckRunState,
  readDownstreamRun,
  readRawWantedCheckRun,
  writeIfWantedCheckRunIs,
  type CheckRunState,
  type DownstreamRun,
} from "../records/check-runs";
import { clearDeadlineOp, deadlineOf } from "../records/deadlines";
import { readDispatch, type DispatchRecord } from "../records/dispatches";
import type { Store } from "../store/store";
import { checkRunOpsForTransition } from "./check-run-effects";
import { isUnfinished } from "./check-run-state";

export interface CheckTimeoutDeps {
  store: Store;
  outbox: Outbox;
}

/**
 * SPEC §3: concludes as `timed_out` a check run whose deadline (records/deadlines.ts, set "checkRuns")
 * passed: no callback within `pickup_timeout_minutes`, or in progress longer than `job_timeout_minutes`.
 * Acts on one check key as the timeout sweep (src/timeouts) claims them, with the score it claimed it
 * with; true when it concluded the check run (its writes are outbox tasks).
 */
export async function timeOutCheckRun(
  relay: CheckTimeoutDeps,
  config: RelayConfig,
  key: string,
  leasedScore: number,
  now: number,
): Promise<boolean> {
  const raw = await readRawWantedCheckRun(relay.store, key);
  // Read after the wanted state: a decision that re-queued the check since the claim set a new
  // deadline (a new score), and that state is not the one that timed out.
  if ((await deadlineOf(relay.store, "checkRuns", key)) !== leasedScore) return false;
  const want = parseCheckRunState(raw);
  const record = want && (await readDispatch(relay.store, want.requestId));
  if (!isUnfinished(want) || !record) {
    // Finished meanwhile (or expired): the deadline is stale. Unless a re-run has queued the check
    // again since it was read: its new deadline is the same member, so it stays.
    await writeIfWantedCheckRunIs(relay.store, key, raw, [clearDeadlineOp("checkRuns", key)]);
    return false;
  }
  const transition = timedOutTransition(record, want, await readDownstreamRun(relay.store, want.requestId), now);
  // Lost to a callback that changed the check meanwhile: its lease runs out and it is looked at again.
  return writeIfWantedCheckRunIs(relay.store, key, raw, checkRunOpsForTransition(relay, config, transition, now));
}

/** The transition a timeout is: from where the check run stands to TIMED_OUT. Pure. */
export function timedOutTransition(
  record: DispatchRecord,
  want: CheckRunState,
  run: DownstreamRun | null,
  now: number,
): JobTransition {
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
