import type { DispatchRecord } from "../relay/dispatch-record";
import { LOST_RACE, retryContended } from "../store/retry-contended";
import type { Store, WriteOp } from "../store/store";
import { decideTransition, type JobReport, type TransitionDecision } from "./decide-transition";
import type { JobTransition } from "../jobs/job-transition";
import { jobId, jobsOfKey, jobStateKey, JOB_TTL_SECONDS, parseJobRecord } from "./job-record";

const ATTEMPTS = 25;

/** The stored state of a job, read ahead of `recordJobReport` (while other checks are still running). */
export function readJobState(store: Store, report: Pick<JobReport, "key">): Promise<string | null> {
  return store.get(jobStateKey(report.key));
}

/**
 * Applies a job report atomically: the new state, the per-dispatch index entry and every effect the
 * transition causes (outbox tasks for check runs and the HUD) commit in one conditional write, only
 * if the state is still what the decision saw. A writer that lost the race re-reads and decides again,
 * so twenty identical callbacks at once make one transition and nineteen duplicates. `firstRead`, the
 * state read already under way (`readJobState`), saves the first decision its own round trip.
 */
export async function recordJobReport(
  store: Store,
  dispatch: DispatchRecord,
  report: JobReport,
  effects: (transition: JobTransition) => WriteOp[],
  firstRead?: Promise<string | null>,
): Promise<TransitionDecision> {
  const key = jobStateKey(report.key);
  return retryContended(`job state ${key}`, ATTEMPTS, async (attempt) => {
    const raw = attempt === 0 && firstRead !== undefined ? await firstRead : await store.get(key);
    const decision = decideTransition(dispatch, parseJobRecord(raw), report);
    if (decision.outcome !== "accepted") return decision;
    const ops: WriteOp[] = [
      { op: "set", key, value: JSON.stringify(decision.record), ttlSeconds: JOB_TTL_SECONDS },
      { op: "zadd", key: jobsOfKey(dispatch.requestId), member: jobId(report.key), score: report.at, onlyIfAbsent: true, ttlSeconds: JOB_TTL_SECONDS },
      ...effects(decision.transition),
    ];
    return (await store.writeIf(key, raw, ops)) ? decision : LOST_RACE;
  });
}
