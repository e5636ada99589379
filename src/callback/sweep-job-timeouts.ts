import type { Relay } from "../create-relay";
import { dispatchKey, parseDispatchRecord } from "../relay/dispatch-record";
import { jobStateKeyOfId, parseJobRecord } from "./job-record";
import { recordJobReport } from "./record-job-report";
import { JOB_DEADLINES, transitionEffects } from "./transition-effects";

const BATCH = 100;
/** A sweeper that dies frees its claimed deadlines after this. */
const LEASE_MS = 60_000;

/**
 * SPEC §3/§4: a job in progress longer than its downstream's `job_timeout_minutes` becomes TIMED_OUT,
 * through the same state machine and effects as a callback (check run, HUD record), so a late
 * callback and the sweep cannot both win. Safe to run from several processes; returns how many
 * jobs it timed out (their effects are outbox tasks: kick the runner after).
 */
export async function sweepJobTimeouts(relay: Pick<Relay, "store" | "outbox" | "env" | "config">, now: number): Promise<number> {
  const config = relay.config.current();
  if (!config) return 0;
  let timedOut = 0;
  for (;;) {
    const due = await relay.store.claimDue(JOB_DEADLINES, now, now + LEASE_MS, BATCH);
    if (due.length === 0) return timedOut;
    for (const id of due) {
      const job = parseJobRecord(await relay.store.get(jobStateKeyOfId(id)));
      const dispatch = job && parseDispatchRecord(await relay.store.get(dispatchKey(job.requestId)));
      if (!job || !dispatch || job.state !== "IN_PROGRESS") {
        await relay.store.write([{ op: "zrem", key: JOB_DEADLINES, member: id }]);
        continue;
      }
      const decision = await recordJobReport(
        relay.store,
        dispatch,
        {
          key: { requestId: job.requestId, runId: job.runId, runAttempt: job.runAttempt, scope: job.scope, jobName: job.jobName },
          event: { status: "timed_out" },
          detailsUrl: job.detailsUrl,
          workflowName: job.workflowName,
          summary: "No result arrived within the job timeout.",
          at: now,
        },
        (transition) => transitionEffects(relay, config, transition, null, now),
      );
      if (decision.outcome === "accepted") timedOut += 1;
      else await relay.store.write([{ op: "zrem", key: JOB_DEADLINES, member: id }]);
    }
  }
}
