import type { DispatchRecord } from "../records/dispatches";
import { jobId, parseJobRecord, readRawJob, recordJobOps, writeIfJobIs } from "../records/jobs";
import { LOST_RACE, retryContended } from "../store/retry-contended";
import type { Store, WriteOp } from "../store/store";
import { decideTransition, type JobReport, type TransitionDecision } from "./decide-transition";
import type { JobTransition } from "../jobs/job-transition";

const ATTEMPTS = 25;

/** The stored state of a job, read ahead of `recordJobReport` (while other checks are still running). */
export function readJobState(store: Store, report: Pick<JobReport, "key">): Promise<string | null> {
  return readRawJob(store, report.key);
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
  return retryContended(`job state ${jobId(report.key)}`, ATTEMPTS, async (attempt) => {
    const raw = attempt === 0 && firstRead !== undefined ? await firstRead : await readRawJob(store, report.key);
    const decision = decideTransition(dispatch, parseJobRecord(raw), report);
    if (decision.outcome !== "accepted") return decision;
    const ops: WriteOp[] = [...recordJobOps(report.key, decision.record, report.at), ...effects(decision.transition)];
    return (await writeIfJobIs(store, report.key, raw, ops)) ? decision : LOST_RACE;
  });
}
