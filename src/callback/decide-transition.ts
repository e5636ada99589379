import type { DispatchRecord } from "../records/dispatches";
import type { JobRecord, JobKey } from "../records/jobs";
import type { JobState, JobTransition } from "../jobs/job-transition";

/** What happened to a job: a callback's status, or the timeout sweep giving up on it. */
export type JobEvent =
  { status: "in_progress" } | { status: "completed"; conclusion: string } | { status: "timed_out" };

export interface JobReport {
  key: JobKey;
  event: JobEvent;
  detailsUrl: string | null;
  workflowName: string | null;
  /** the downstream's own check run id (`job.check_run_id`), when it sent one */
  checkRunId?: string | null;
  summary: string | null;
  /** epoch ms */
  at: number;
}

export type TransitionDecision =
  | { outcome: "accepted"; record: JobRecord; transition: JobTransition }
  /** an exact repeat of what was already accepted: nothing changes */
  | { outcome: "duplicate"; record: JobRecord }
  | { outcome: "refused"; reason: "backwards" | "conclusion-conflict" | "timed-out"; record: JobRecord };

/**
 * SPEC §4 state machine, per (request, run, attempt, job): DISPATCHED -> IN_PROGRESS -> COMPLETED, with
 * TIMED_OUT reachable from either unfinished state. Pure.
 *
 * TIMED_OUT is terminal: a callback arriving after the relay gave up is refused (409, reason
 * `timed-out`) rather than rewriting a check run and HUD row everyone has already seen; the downstream
 * step fails visibly, which is the honest signal that its result came too late. A timeout reaching a
 * finished job changes nothing.
 */
export function decideTransition(
  dispatch: DispatchRecord,
  current: JobRecord | null,
  report: JobReport,
): TransitionDecision {
  const from: JobState = current?.state ?? "DISPATCHED";
  const { event } = report;
  if (current !== null && isRepeat(current, event)) return { outcome: "duplicate", record: current };
  if (current !== null) {
    if (current.state === "TIMED_OUT") return { outcome: "refused", reason: "timed-out", record: current };
    if (current.state === "COMPLETED") {
      const reason = event.status === "completed" ? "conclusion-conflict" : "backwards";
      return { outcome: "refused", reason, record: current };
    }
  }
  return accept(dispatch, current, from, report);
}

function isRepeat(current: JobRecord, event: JobEvent): boolean {
  switch (event.status) {
    case "in_progress":
      return current.state === "IN_PROGRESS";
    case "completed":
      return current.state === "COMPLETED" && current.conclusion === event.conclusion;
    case "timed_out":
      // The sweep may find a job that finished meanwhile: nothing left to time out.
      return current.state === "TIMED_OUT" || current.state === "COMPLETED";
  }
}

function accept(
  dispatch: DispatchRecord,
  current: JobRecord | null,
  from: JobState,
  report: JobReport,
): TransitionDecision {
  const { key, event, at } = report;
  const to = TARGET[event.status];
  const conclusion =
    event.status === "completed" ? event.conclusion : event.status === "timed_out" ? "timed_out" : null;
  const inProgressAt = to === "IN_PROGRESS" ? at : (current?.inProgressAt ?? null);
  const queueTimeSeconds = to === "IN_PROGRESS" ? queueTime(dispatch, key, at) : (current?.queueTimeSeconds ?? null);
  const executionTimeSeconds = to === "COMPLETED" && inProgressAt !== null ? seconds(at - inProgressAt) : null;
  const detailsUrl = report.detailsUrl ?? current?.detailsUrl ?? null;
  const workflowName = report.workflowName ?? current?.workflowName ?? null;
  const checkRunId = report.checkRunId ?? current?.checkRunId ?? null;
  const record: JobRecord = {
    requestId: key.requestId,
    scope: key.scope,
    jobName: key.scope === "run" ? null : key.jobName,
    runId: key.runId,
    runAttempt: key.runAttempt,
    state: to,
    conclusion,
    detailsUrl,
    workflowName,
    checkRunId,
    inProgressAt,
    completedAt: to === "IN_PROGRESS" ? null : at,
    queueTimeSeconds,
    executionTimeSeconds,
    updatedAt: at,
  };
  const transition: JobTransition = {
    dispatch,
    scope: record.scope,
    jobName: record.jobName,
    runId: record.runId,
    runAttempt: record.runAttempt,
    from,
    to,
    conclusion,
    detailsUrl,
    workflowName,
    checkRunId,
    summary: report.summary,
    queueTimeSeconds,
    executionTimeSeconds,
    at,
  };
  return { outcome: "accepted", record, transition };
}

const TARGET = { in_progress: "IN_PROGRESS", completed: "COMPLETED", timed_out: "TIMED_OUT" } as const;

/** A re-run's wait says nothing about the relay's pickup: only the first attempt has a queue time. */
function queueTime(dispatch: DispatchRecord, key: JobKey, at: number): number | null {
  if (key.runAttempt !== "1") return null;
  return seconds(at - (dispatch.dispatchedAt ?? dispatch.createdAt));
}

/** Clocks of different processes disagree by a little: never a negative duration. */
function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
