import type { JobTransition } from "../callback/job-transition";
import type { WorkflowReport } from "../callback/callback-body";

/**
 * SPEC §4 HUD record. `trusted` holds only what the relay itself vouches for (its own clock, the
 * verified repository, the relay token's upstream); `untrusted` holds the downstream's validated,
 * size-capped report. The echoed upstream payload is never part of it.
 */
export interface HudRecord {
  trusted: {
    ci_metrics: { queue_time: number | null; execution_time: number | null };
    verified_repo: string;
    downstream_repo_level: string;
    request_id: string;
    upstream: { repo: string; sha: string; pr_number: number | null };
    state: JobTransition["to"];
    conclusion: string | null;
    run_id: string;
    run_attempt: string;
    job_name: string | null;
    scope: JobTransition["scope"];
  };
  untrusted: { workflow: WorkflowReport | null };
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
      state: transition.to,
      conclusion: transition.conclusion,
      run_id: transition.runId,
      run_attempt: transition.runAttempt,
      job_name: transition.jobName,
      scope: transition.scope,
    },
    untrusted: { workflow },
  };
}
