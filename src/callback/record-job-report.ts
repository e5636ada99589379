import type { DispatchRecord } from "../records/dispatches";
import { countThenWriteIfJobIs, jobId, parseJobRecord, readRawJob, recordJobOps, writeIfJobIs } from "../records/jobs";
import { LOST_RACE, retryContended } from "../store/retry-contended";
import type { Store, WriteOp } from "../store/store";
import type { CallbackCount } from "./count-callback";
import { decideTransition, type JobReport, type TransitionDecision } from "./decide-transition";
import type { JobTransition } from "../jobs/job-transition";

const ATTEMPTS = 25;

/**
 * Applies a job report atomically: the new state, the per-dispatch index entry and every effect the
 * transition causes (outbox tasks for check runs and the HUD) commit in one conditional write, only
 * if the state is still what the decision saw. A writer that lost the race re-reads and decides again,
 * so twenty identical callbacks at once make one transition and nineteen duplicates.
 *
 * A callback's report (`counted`) is counted in its rate window by its first write, refused over the
 * limit with nothing written (SPEC §4.4), and that write guesses the job is new: a job's first report
 * (most are) costs one round trip for the count, the state and the write; one heard of before, or a
 * limit reached, is told by the same answer, which also carries the state to decide on.
 */
export async function recordJobReport(
  store: Store,
  dispatch: DispatchRecord,
  report: JobReport,
  effects: (transition: JobTransition) => WriteOp[],
  counted?: CallbackCount,
): Promise<TransitionDecision> {
  const opsFor = (decision: TransitionDecision & { outcome: "accepted" }): WriteOp[] => [
    ...recordJobOps(report.key, decision.record, report.at),
    ...effects(decision.transition),
  ];
  const decideAndWrite = async (raw: string | null) => {
    const decision = decideTransition(dispatch, parseJobRecord(raw), report);
    if (decision.outcome !== "accepted") return decision;
    return (await writeIfJobIs(store, report.key, raw, opsFor(decision))) ? decision : LOST_RACE;
  };
  return retryContended(`job state ${jobId(report.key)}`, ATTEMPTS, async (attempt) => {
    if (attempt > 0 || counted === undefined) return decideAndWrite(await readRawJob(store, report.key));
    const guessed = decideTransition(dispatch, null, report);
    const ops = guessed.outcome === "accepted" ? opsFor(guessed) : [];
    const written = await countThenWriteIfJobIs(store, counted.window, report.key, null, ops);
    counted.check(written.count);
    return written.applied && guessed.outcome === "accepted" ? guessed : decideAndWrite(written.current);
  });
}
