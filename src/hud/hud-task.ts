/**
 * hud/ owns what the relay tells the HUD (SPEC §4): the record built from an accepted transition or
 * nightly report, and the outbox task that POSTs it exactly once per transition or report.
 */
import type { Logger } from "pino";
import type { JobTransition } from "../jobs/job-transition";
import type { WorkflowReport } from "../jobs/workflow-report";
import { jobId } from "../records/jobs";
import { HUD_LANE } from "../outbox/lanes";
import type { Outbox, Task } from "../outbox/outbox";
import type { TaskContext, TaskHandler } from "../outbox/outbox-runner";
import type { WriteOp } from "../store/store";
import { nightlyReportId, type NightlyReport } from "../records/nightly-reports";
import { buildHudRecord, buildNightlyHudRecord } from "./hud-record";
import { postJson, type PostJson } from "./post-json";

export const HUD_TASK = "hud";
const HUD_TIMEOUT_MS = 10_000;

export interface HudSettings {
  hudUrl?: string;
  hudToken?: string;
}

/**
 * The outbox task that forwards one accepted transition to the HUD (none when HUD_URL is unset, and
 * none for L1, whose callbacks are not kept). The id names the job and the state it reached, each
 * reachable once, so a transition can never be forwarded twice.
 */
export function hudTaskOps(
  outbox: Outbox,
  settings: HudSettings,
  transition: JobTransition,
  workflow: WorkflowReport | null,
  now: number,
): WriteOp[] {
  if (settings.hudUrl === undefined || transition.dispatch.level === "L1") return [];
  const id = `${HUD_TASK}:${jobId({ ...transition, requestId: transition.dispatch.requestId })}:${transition.to}`;
  return outbox.enqueueOps(
    { id, kind: HUD_TASK, lane: HUD_LANE, data: { record: { ...buildHudRecord(transition, workflow) } } },
    now,
  );
}

/**
 * The outbox task for one accepted nightly or periodic report (SPEC §4); each report is accepted once,
 * and the id names it, so it is never forwarded twice. L1 reports are never accepted.
 */
export function nightlyHudTaskOps(
  outbox: Outbox,
  settings: HudSettings,
  report: NightlyReport,
  workflow: WorkflowReport,
  now: number,
): WriteOp[] {
  if (settings.hudUrl === undefined) return [];
  const id = `${HUD_TASK}:nightly:${nightlyReportId(report)}`;
  return outbox.enqueueOps(
    { id, kind: HUD_TASK, lane: HUD_LANE, data: { record: { ...buildNightlyHudRecord(report, workflow) } } },
    now,
  );
}

/** Thrown with the shape `classifyFailure` reads, so the runner retries 5xx/429 and honours Retry-After. */
class HudResponseError extends Error {
  constructor(
    readonly status: number,
    readonly response: { headers: Record<string, string> },
  ) {
    super(`HUD answered ${status}`);
  }
}

/** POSTs the stored record; a network failure or a 5xx is retried with backoff by the outbox runner. */
export function hudTask(settings: HudSettings, log: Logger, post: PostJson = postJson): TaskHandler<typeof HUD_TASK> {
  return {
    async run(task: Task<typeof HUD_TASK>, context?: TaskContext) {
      // The HUD may have been unset since the task was stored: nothing to deliver to.
      if (settings.hudUrl === undefined) return;
      const answer = await post(
        settings.hudUrl,
        JSON.stringify(task.data.record),
        { "x-hud-internal-bot": settings.hudToken ?? "" },
        context
          ? AbortSignal.any([context.signal, AbortSignal.timeout(HUD_TIMEOUT_MS)])
          : AbortSignal.timeout(HUD_TIMEOUT_MS),
      );
      if (answer.status < 200 || answer.status > 299)
        throw new HudResponseError(answer.status, { headers: answer.headers });
      log.debug({ taskId: task.id }, "HUD record forwarded");
    },
  };
}
