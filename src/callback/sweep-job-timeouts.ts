import type { Relay } from "../create-relay";
import { claimDueDeadlines, clearDeadline } from "../records/deadlines";
import { readDispatch } from "../records/dispatches";
import { readJobById } from "../records/jobs";
import { recordJobReport } from "./record-job-report";
import { transitionEffects } from "./transition-effects";

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
    const due = await claimDueDeadlines(relay.store, "jobs", now, now + LEASE_MS, BATCH);
    if (due.length === 0) return timedOut;
    for (const id of due) {
      const job = await readJobById(relay.store, id);
      const dispatch = job && (await readDispatch(relay.store, job.requestId));
      if (!job || !dispatch || job.state !== "IN_PROGRESS") {
        await clearDeadline(relay.store, "jobs", id);
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
      else await clearDeadline(relay.store, "jobs", id);
    }
  }
}
