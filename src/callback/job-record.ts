import { RECORD_TTL_SECONDS } from "../relay/dispatch-record";
import type { JobState } from "../jobs/job-transition";

/**
 * The stored state of one downstream job (or, with scope "run", of the whole downstream run) for one
 * run attempt. Kept under `relay:job:<key>` and indexed per dispatch in `relay:jobs-of:<requestId>`
 * (score: when the job was first heard of) so the dashboard and the timeout sweep can find every job
 * of a dispatch.
 */
export interface JobRecord {
  requestId: string;
  scope: "job" | "run";
  /** null for scope "run" */
  jobName: string | null;
  runId: string;
  runAttempt: string;
  state: Exclude<JobState, "DISPATCHED">;
  conclusion: string | null;
  detailsUrl: string | null;
  workflowName: string | null;
  /** the downstream's `workflow.check_run_id` as last reported (absent in records written before it was kept) */
  checkRunId?: string | null;
  /** epoch ms of each accepted transition, null until it happened */
  inProgressAt: number | null;
  completedAt: number | null;
  queueTimeSeconds: number | null;
  executionTimeSeconds: number | null;
  updatedAt: number;
}

/** Identifies one job's state: run-scope reports share the reserved job name `__run__`. */
export interface JobKey {
  requestId: string;
  runId: string;
  runAttempt: string;
  scope: "job" | "run";
  jobName: string | null;
}

const RUN_JOB_NAME = "__run__";

/** Job names are free text: encoded so a `:` in one cannot make two keys collide. */
export function jobId({ requestId, runId, runAttempt, scope, jobName }: JobKey): string {
  const name = scope === "run" ? RUN_JOB_NAME : `job=${jobName ?? ""}`;
  return [requestId, runId, runAttempt, name].map(encodeURIComponent).join(":");
}

export const jobStateKeyOfId = (id: string) => `relay:job:${id}`;
export const jobStateKey = (key: JobKey) => jobStateKeyOfId(jobId(key));
export const jobsOfKey = (requestId: string) => `relay:jobs-of:${requestId}`;
export const JOB_TTL_SECONDS = RECORD_TTL_SECONDS;

export function parseJobRecord(raw: string | null): JobRecord | null {
  return raw === null ? null : (JSON.parse(raw) as JobRecord);
}
