import type { RelayEnv } from "../config/env";
import type { RelayConfig } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import { dispatchKey, parseDispatchRecord } from "../relay/dispatch-record";
import type { Store } from "../store/store";
import { jobStateKeyOfId, parseJobRecord } from "./job-record";
import { recordJobReport } from "./record-job-report";
import { JOB_DEADLINES, transitionEffects } from "./transition-effects";

export interface JobTimeoutDeps {
  store: Store;
  outbox: Outbox;
  /** the HUD settings: a timed-out job is forwarded like a callback */
  env: RelayEnv;
}

/**
 * SPEC §3/§4: a job in progress longer than its downstream's `job_timeout_minutes` becomes TIMED_OUT,
 * through the same state machine and effects as a callback (check run, HUD record), so a late
 * callback and the sweep cannot both win. Acts on one job whose deadline (JOB_DEADLINES) passed, as
 * the timeout sweep (src/timeouts) claims them; true when it timed out (its effects are outbox tasks).
 */
export async function timeOutJob(deps: JobTimeoutDeps, config: RelayConfig, id: string, now: number): Promise<boolean> {
  const job = parseJobRecord(await deps.store.get(jobStateKeyOfId(id)));
  const dispatch = job && parseDispatchRecord(await deps.store.get(dispatchKey(job.requestId)));
  if (!job || !dispatch || job.state !== "IN_PROGRESS") {
    await deps.store.write([{ op: "zrem", key: JOB_DEADLINES, member: id }]);
    return false;
  }
  const decision = await recordJobReport(
    deps.store,
    dispatch,
    {
      key: { requestId: job.requestId, runId: job.runId, runAttempt: job.runAttempt, scope: job.scope, jobName: job.jobName },
      event: { status: "timed_out" },
      detailsUrl: job.detailsUrl,
      workflowName: job.workflowName,
      summary: "No result arrived within the job timeout.",
      at: now,
    },
    (transition) => transitionEffects(deps, config, transition, null, now),
  );
  if (decision.outcome === "accepted") return true;
  await deps.store.write([{ op: "zrem", key: JOB_DEADLINES, member: id }]);
  return false;
}
