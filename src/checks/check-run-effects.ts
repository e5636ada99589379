import type { JobTransition } from "../jobs/job-transition";
import { CONFIG_DEFAULTS } from "../config/native-config";
import { sameRepo, type RelayConfig } from "../config/types";
import { oncallCommentOps } from "./oncall/oncall-comment-state";
import type { Outbox } from "../outbox/outbox";
import { checksShownOp, downstreamRunOps, type CheckRunState, type CheckStatus } from "../records/check-runs";
import type { DispatchRecord } from "../records/dispatches";
import type { WriteOp } from "../store/store";
import { clearDeadlineOp, setDeadlineOp } from "./check-deadlines";
import { downstreamCheckName, jobCheckName } from "./check-run-names";
import { checkConclusion, wantCheckRunOps } from "./check-run-state";
import { formatExternalId } from "./external-id";
import { tracksCheckRuns } from "./wants-check-runs";

type Outcome = Pick<CheckRunState, "status" | "conclusion" | "detailsUrl" | "title" | "summary" | "at">;

const MINUTE_MS = 60_000;

/**
 * SPEC §3: a dispatch (new, re-dispatched or re-run) queues its per-downstream check run and starts
 * the pickup clock. `shown` is false for an L3 dispatch whose PR lacks the device label: the state is
 * kept so that a label added later back-fills the check run. Nothing for L1 and L2, nor for a closed
 * PR (see tracksCheckRuns).
 */
export function checkRunOpsForDispatch(
  outbox: Outbox,
  config: RelayConfig,
  record: DispatchRecord,
  shown: boolean,
  now: number,
): WriteOp[] {
  if (!tracksCheckRuns(record)) return [];
  const state = downstreamCheck(config, record, {
    status: "queued",
    conclusion: null,
    detailsUrl: null,
    title: "Queued",
    summary: `Dispatched to ${record.downstream}; waiting for its run to start.`,
    at: now,
  });
  return [
    ...(shown ? [checksShownOp(record.requestId)] : []),
    ...wantCheckRunOps(outbox, state, now),
    setDeadlineOp(state, now + timeoutsOf(config, record.downstream).pickupMs),
    // A new head (or a re-run) turns an existing oncall comment to what now runs; it never makes one.
    ...oncallCommentOps(outbox, config, record, now),
  ];
}

/**
 * SPEC §3–§4: what an accepted callback transition (or a timeout) does to check runs. The caller
 * writes these ops in the same atomic write as the state change. A job transition drives that job's
 * check run; a run transition (scope "run") drives the per-downstream one, conclusion copied as sent.
 */
export function checkRunOpsForTransition(
  relay: { outbox: Outbox },
  config: RelayConfig,
  transition: JobTransition,
  now: number,
): WriteOp[] {
  const record = transition.dispatch;
  if (!tracksCheckRuns(record)) return [];
  const status: CheckStatus = transition.to === "IN_PROGRESS" ? "in_progress" : "completed";
  const conclusion =
    transition.to === "TIMED_OUT"
      ? "timed_out"
      : transition.to === "COMPLETED"
        ? checkConclusion(transition.conclusion)
        : null;
  const title = conclusion === null ? "In progress" : conclusion.replace(/_/g, " ");
  const outcome: Outcome = {
    status,
    conclusion,
    detailsUrl: transition.detailsUrl,
    title,
    summary: transition.summary ?? `${record.downstream}: ${title}`,
    at: transition.at,
  };
  const { jobMs } = timeoutsOf(config, record.downstream);
  const perDownstream = downstreamCheck(config, record, outcome);
  const deadlineOp = (check: CheckRunState) =>
    status === "in_progress" ? setDeadlineOp(check, transition.at + jobMs) : clearDeadlineOp(check);

  const ops: WriteOp[] = [];
  if (transition.runId !== "") {
    // An Actions run named by a callback: its `workflow_run` webhooks now lead back to this dispatch.
    const run = { runId: transition.runId, attempt: transition.runAttempt, url: transition.detailsUrl };
    ops.push(...downstreamRunOps(record.requestId, record.downstream, run, record.transport === "dispatch"));
  }
  if (transition.scope === "run") {
    ops.push(...wantCheckRunOps(relay.outbox, perDownstream, now), deadlineOp(perDownstream));
    // A concluded per-downstream check is news for the PR's oncall comment (SPEC §2 `notify`).
    if (status === "completed") ops.push(...oncallCommentOps(relay.outbox, config, record, now));
    return ops;
  }
  const workflow = transition.workflowName ?? "workflow";
  const job = transition.jobName ?? "job";
  const perJob: CheckRunState = {
    ...perDownstream,
    name: jobCheckName(config.checkPrefix, record.downstream, workflow, job),
    externalId: formatExternalId({ requestId: record.requestId, job }),
    workflow,
    job,
  };
  ops.push(
    ...wantCheckRunOps(relay.outbox, perJob, now),
    deadlineOp(perJob),
    // A callback came, so the downstream picked the work up: the per-downstream check now waits for
    // its run to finish, with the job timeout, rather than for a pickup.
    setDeadlineOp(perDownstream, transition.at + jobMs),
  );
  return ops;
}

function downstreamCheck(config: RelayConfig, record: DispatchRecord, outcome: Outcome): CheckRunState {
  return {
    requestId: record.requestId,
    downstream: record.downstream,
    upstream: record.upstream.repo,
    sha: record.upstream.sha,
    name: downstreamCheckName(config.checkPrefix, record.downstream),
    externalId: formatExternalId({ requestId: record.requestId, job: null }),
    workflow: null,
    job: null,
    ...outcome,
  };
}

/** A downstream since removed from the config still times out, with the defaults. */
function timeoutsOf(config: RelayConfig, repo: string): { pickupMs: number; jobMs: number } {
  const downstream = config.downstreams.find((d) => sameRepo(d.repo, repo));
  return {
    pickupMs: (downstream?.pickupTimeoutMinutes ?? CONFIG_DEFAULTS.pickupTimeoutMinutes) * MINUTE_MS,
    jobMs: (downstream?.jobTimeoutMinutes ?? CONFIG_DEFAULTS.jobTimeoutMinutes) * MINUTE_MS,
  };
}
