import type { JobTransition } from "../callback/job-transition";
import type { ConfigSource } from "../config/config-source";
import type { RelayConfig } from "../config/types";
import type { Relay } from "../create-relay";
import { parseCheckRunState, readDownstreamRun, readRawWantedCheckRun, writeIfWantedCheckRunIs, type CheckRunState, type DownstreamRun } from "../records/check-runs";
import { claimDueDeadlines, clearDeadlineOp, deadlineOf } from "../records/deadlines";
import { readDispatch, type DispatchRecord } from "../records/dispatches";
import { checkRunOpsForTransition } from "./check-run-effects";
import { isUnfinished } from "./check-run-state";

/** Deadlines taken per round; a sweeper that dies frees its share after the lease. */
const BATCH = 100;
const LEASE_MS = 60_000;

/**
 * SPEC §3: concludes as `timed_out` every check run whose deadline passed (no callback within
 * `pickup_timeout_minutes`, or in progress longer than `job_timeout_minutes`). Reads only what is
 * due (a sorted set of deadlines); safe to run from several processes at once. Returns how many
 * check runs it concluded (their writes are outbox tasks: kick the runner after).
 */
export async function sweepTimeouts(relay: Pick<Relay, "store" | "outbox"> & { config: Pick<ConfigSource, "current"> }, now: number): Promise<number> {
  const config = relay.config.current();
  if (!config) return 0;
  let concluded = 0;
  for (;;) {
    const due = await claimDueDeadlines(relay.store, "checkRuns", now, now + LEASE_MS, BATCH);
    if (due.length === 0) return concluded;
    for (const key of due) if (await timeOut(relay, config, key, now, now + LEASE_MS)) concluded += 1;
  }
}

async function timeOut(relay: Pick<Relay, "store" | "outbox">, config: RelayConfig, key: string, now: number, leasedScore: number): Promise<boolean> {
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
