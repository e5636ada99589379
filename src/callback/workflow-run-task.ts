import { recordJobReport } from "./record-job-report";
import { transitionEffects } from "./transition-effects";
import type { RelayEnv } from "../config/env";
import { sameRepo } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import type { TaskHandler } from "../outbox/outbox-runner";
import { readDispatchOfRun, readDownstreamRun } from "../records/check-runs";
import { readDispatch } from "../records/dispatches";
import type { WriteOp } from "../store/store";
import { deliveryTask, deliveryTaskOps, type DeliveryTaskDeps } from "../checks/delivery-task";
import { decideWorkflowRun, type WorkflowRunEvent } from "./workflow-run-event";
import { tracksCheckRuns } from "../checks/wants-check-runs";

export const WORKFLOW_RUN_TASK = "workflow-run";

/**
 * Stored by the `workflow_run` webhook for a run some callback named (a store read, no GitHub call),
 * so the answer never waits on GitHub; the task checks where the delivery came from and acts.
 */
export function workflowRunTaskOps(
  outbox: Outbox,
  deliveryId: string,
  event: WorkflowRunEvent,
  now: number,
): WriteOp[] {
  return deliveryTaskOps(outbox, WORKFLOW_RUN_TASK, deliveryId, event, now);
}

export interface WorkflowRunTaskDeps extends DeliveryTaskDeps {
  env: RelayEnv;
}

/**
 * SPEC §3: the per-downstream check concludes when the downstream workflow run completes, with its
 * conclusion, and a re-run of that run re-opens it. Both go through the run-scope state machine, so a
 * `scope: run` report that came first wins (a different conclusion is refused), and a repeat changes
 * nothing. Only the downstream's own installation speaks for its runs: a `workflow_run` carrying the
 * run id from any other installation is dropped.
 */
export function workflowRunTask(deps: WorkflowRunTaskDeps): TaskHandler<typeof WORKFLOW_RUN_TASK> {
  return deliveryTask(deps, async ({ task, config, now }) => {
    const event = task.data;
    const requestId = await readDispatchOfRun(deps.store, event.repo, event.runId);
    const record = requestId === null ? null : await readDispatch(deps.store, requestId);
    if (!record || !sameRepo(record.downstream, event.repo) || !tracksCheckRuns(record)) return;
    if ((await deps.github.installationId(record.downstream)) !== event.installationId) {
      deps.log.warn(
        { repo: event.repo, runId: event.runId, installationId: event.installationId },
        "workflow_run from another installation ignored",
      );
      return;
    }
    const decision = decideWorkflowRun(event, await readDownstreamRun(deps.store, record.requestId));
    if (decision.kind === "ignore") return;
    const relayConfig = await config();
    const at = now();
    const outcome = await recordJobReport(
      deps.store,
      record,
      {
        key: {
          requestId: record.requestId,
          runId: event.runId,
          runAttempt: decision.runAttempt,
          scope: "run",
          jobName: null,
        },
        event:
          decision.kind === "conclude"
            ? { status: "completed", conclusion: decision.conclusion }
            : { status: "in_progress" },
        detailsUrl: event.url,
        workflowName: event.name,
        summary:
          decision.kind === "conclude"
            ? `${record.downstream}: the downstream run ended ${decision.conclusion.replace(/_/g, " ")}.`
            : null,
        at,
      },
      (transition) => transitionEffects(deps, relayConfig, transition, null, at, { hud: false }),
    );
    deps.log.info(
      {
        requestId: record.requestId,
        runId: event.runId,
        runAttempt: decision.runAttempt,
        decision: decision.kind,
        outcome: outcome.outcome,
      },
      "workflow_run applied",
    );
  });
}
