import type { JobTransition } from "../jobs/job-transition";
import type { WorkflowReport } from "../jobs/workflow-report";
import type { NightlyReport } from "../records/nightly-reports";
import type { DispatchRecord } from "../records/dispatches";

/** The upstream facts a HUD row is filed under, rebuilt from what the relay dispatched. */
export interface HudUpstreamPayload {
  repository: { full_name: string };
  head_sha: string;
  /** only when the dispatch was for a PR (a pull_request event, or a ciflow tag naming one) */
  pull_request?: { number: number; head: { sha: string } };
}

/**
 * SPEC §4 HUD record, the body PyTorch's HUD (`/api/crcr/results`) accepts from CRCR. `trusted` holds
 * only what the relay itself vouches for (its own clock, the verified repository, the dispatch's
 * upstream); `untrusted.callback_payload` is shaped like CRCR's pass-through callback so the HUD keys
 * its row on `verified_repo/delivery_id/workflow.name/workflow.job_name/workflow.check_run_id`, but its
 * `delivery_id`, `event_type` and `payload` come from the relay's own dispatch record: the downstream's
 * echo of the upstream payload is never forwarded. Only `workflow` is the downstream's (validated,
 * size-capped, unknown fields kept).
 */
export interface HudRecord {
  trusted: {
    ci_metrics: { queue_time: number | null; execution_time: number | null };
    verified_repo: string;
    downstream_repo_level: string;
    /** null for a nightly or periodic report: no dispatch preceded it */
    request_id: string | null;
    upstream: { repo: string; sha: string; pr_number: number | null };
  };
  untrusted: {
    callback_payload: {
      event_type: string;
      delivery_id: string;
      payload: HudUpstreamPayload;
      workflow: Record<string, unknown>;
    };
  };
}

/** Pure; `workflow` is null when the relay itself caused the transition (a timeout). */
export function buildHudRecord(transition: JobTransition, workflow: WorkflowReport | null): HudRecord {
  const { dispatch } = transition;
  return {
    trusted: {
      ci_metrics: { queue_time: transition.queueTimeSeconds, execution_time: transition.executionTimeSeconds },
      verified_repo: dispatch.downstream,
      downstream_repo_level: dispatch.level,
      request_id: dispatch.requestId,
      upstream: { repo: dispatch.upstream.repo, sha: dispatch.upstream.sha, pr_number: dispatch.upstream.prNumber },
    },
    untrusted: {
      callback_payload: {
        event_type: dispatch.event,
        delivery_id: dispatch.deliveryId,
        payload: hudUpstreamPayload(dispatch.upstream),
        workflow: workflow ?? timedOutReport(transition),
      },
    },
  };
}

/**
 * What the relay reports for a job it timed out: `completed`/`timed_out` under the same workflow name,
 * job name and check run id as the job's own reports, so the HUD updates that job's row.
 */
function timedOutReport(transition: JobTransition): Record<string, unknown> {
  return {
    schema_version: "1",
    status: "completed",
    conclusion: "timed_out",
    scope: transition.scope,
    name: transition.workflowName,
    url: transition.detailsUrl,
    run_id: transition.runId,
    run_attempt: transition.runAttempt,
    job_name: transition.jobName,
    check_run_id: transition.checkRunId ?? null,
    started_at: null,
    completed_at: new Date(transition.at).toISOString(),
  };
}

/**
 * SPEC §4 record of a nightly or periodic report: no dispatch, so no metrics and no request id; the
 * SHA stands for the delivery (CRCR's `delivery_id`), and the upstream is the one GitHub confirmed
 * the commit for, never the downstream's word. Pure.
 */
export function buildNightlyHudRecord(report: NightlyReport, workflow: WorkflowReport): HudRecord {
  const upstream = { repo: report.upstream, sha: report.sha, prNumber: null };
  return {
    trusted: {
      ci_metrics: { queue_time: null, execution_time: null },
      verified_repo: report.downstream,
      downstream_repo_level: report.level,
      request_id: null,
      upstream: { repo: upstream.repo, sha: upstream.sha, pr_number: null },
    },
    untrusted: {
      callback_payload: {
        event_type: report.event,
        delivery_id: report.sha,
        payload: hudUpstreamPayload(upstream),
        workflow,
      },
    },
  };
}

function hudUpstreamPayload(
  upstream: Pick<DispatchRecord["upstream"], "repo" | "sha" | "prNumber">,
): HudUpstreamPayload {
  return {
    repository: { full_name: upstream.repo },
    head_sha: upstream.sha,
    ...(upstream.prNumber !== null && { pull_request: { number: upstream.prNumber, head: { sha: upstream.sha } } }),
  };
}
