/**
 * jobs/ owns what the relay knows of a downstream job, shared by the callback that changes it and the
 * effects that follow (checks/, hud/, dashboard/): the job's states and an accepted transition, the
 * workflow facts a report carries. Their stored records are records/jobs.ts and records/nightly-reports.ts.
 */
import type { DispatchRecord } from "../records/dispatches";

export type JobState = "DISPATCHED" | "IN_PROGRESS" | "COMPLETED" | "TIMED_OUT";

/**
 * An accepted change of one downstream job's (or, with scope "run", the whole downstream run's)
 * state. Produced by the callback endpoint and by the timeout sweep; consumed by the effects it
 * causes (check runs, HUD records), which are enqueued in the same atomic write as the state change.
 */
export interface JobTransition {
  dispatch: DispatchRecord;
  scope: "job" | "run";
  /** null for scope "run" */
  jobName: string | null;
  runId: string;
  runAttempt: string;
  from: JobState;
  to: Exclude<JobState, "DISPATCHED">;
  /** GitHub check conclusion for COMPLETED ("success", "failure", ...); "timed_out" for TIMED_OUT */
  conclusion: string | null;
  /** the downstream run's URL as reported (workflow.url), or null */
  detailsUrl: string | null;
  workflowName: string | null;
  /** the downstream's own check run id as it reported it; a relay-made HUD record reuses it (the HUD's key) */
  checkRunId?: string | null;
  summary: string | null;
  queueTimeSeconds: number | null;
  executionTimeSeconds: number | null;
  /** epoch ms */
  at: number;
}
