import type { RelayEnv } from "../config/env";
import type { RelayConfig } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import { clearDeadline } from "../records/deadlines";
import { readDispatch } from "../records/dispatches";
import { readJobById } from "../records/jobs";
import type { Store } from "../store/store";
import { recordJobReport } from "./record-job-report";
import { transitionEffects } from "./transition-effects";

export interface JobTimeoutDeps {
  store: Store;
  outbox: Outbox;
  /** the HUD settings: a timed-out job is forwarded like a callback */
  env: RelayEnv;
}

/**
 * SPEC §3/§4: a job in progress longer than its downstream's `job_timeout_minutes` becomes TIMED_OUT,
 * through the same state machine and effects as a callback (check run, HUD record), so a late
 * callback and the sweep cannot both win. Acts on one job whose deadline (records/deadlines.ts, set "jobs") passed, as
 * the timeout sweep (src/timeouts) claims them; true when it timed out (its effects are outbox tasks).
 */
export async function timeOutJob(deps: JobTimeoutDeps, config: RelayConfig, id: string, now: number): Promise<boolean> {
  const job = await readJobById(deps.store, id);
  const dispatch = job && (await readDispatch(deps.store, job.requestId));
  if (!job || !dispatch || job.state !== "IN_PROGRESS") {
    await clearDeadline(deps.store, "jobs", id);
    return false;
  }
  const decision = await recordJobReport(
    deps.store,
    dispatch,
    {
      key: {
        requestId: job.requestId,
        runId: job.runId,
        runAttempt: job.runAttempt,
        scope: job.scope,
        jobName: job.jobName,
      },
      event: { status: "timed_out" },
      detailsUrl: job.detailsUrl,
      workflowName: job.workflowName,
      summary: "No result arrived within the job timeout.",
      at: now,
    },
    (transition) => transitionEffects(deps, config, transition, null, now),
  );
  if (decision.outcome === "accepted") return true;
  await clearDeadline(deps.store, "jobs", id);
  return false;
}
