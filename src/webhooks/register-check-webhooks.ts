import type { Probot } from "probot";
import { z } from "zod";
import { sameRepo, type RelayConfig } from "../config/types";
import type { Metrics } from "../metrics/metrics";
import type { Logger } from "pino";
import type { Outbox } from "../outbox/outbox";
import type { OutboxRunner } from "../outbox/outbox-runner";
import type { Store } from "../store/store";
import { areChecksShownMany, readDispatchOfRun } from "../records/check-runs";
import { readDispatch, type DispatchRecord } from "../records/dispatches";
import { parseUpstreamEvent } from "../relay/upstream-event";
import { backfillLabelCheckRuns } from "../checks/backfill-label-check-runs";
import { parseExternalId } from "../checks/external-id";
import { recordedDispatches, recordedDispatchesAsStored } from "../checks/recorded-dispatches";
import { rerunCheckRuns } from "../relay/rerun-check-runs";
import { supersedeDispatches } from "../relay/supersede-dispatches";
import { supersedeCheckRuns } from "../checks/supersede-check-runs";
import { tracksCheckRuns } from "../checks/wants-check-runs";
import { parseWorkflowRunEvent } from "../callback/workflow-run-event";
import { workflowRunTaskOps } from "../callback/workflow-run-task";

/** The check webhooks read and write check-run state and wake the runner for what they enqueue. */
export interface CheckWebhookDeps {
  store: Store;
  outbox: Outbox;
  runner: Pick<OutboxRunner, "kick">;
  metrics: Metrics;
  log: Logger;
}

export interface CheckWebhookContext {
  /** the relay config, or a 503 for GitHub to redeliver later */
  config(): Promise<RelayConfig>;
  isOwnEvent(payload: unknown): Promise<boolean>;
}

const repository = z.object({ full_name: z.string() });
const checkRunRerequest = z.object({ repository, check_run: z.object({ external_id: z.string().nullish() }) });
const checkSuiteRerequest = z.object({ repository, check_suite: z.object({ head_sha: z.string() }) });

/**
 * SPEC §3 check-run webhooks: L3 label back-fill, supersede on a new head SHA, re-runs asked for from
 * the upstream PR UI, and downstream `workflow_run`s concluding the per-downstream check. Each
 * handler resolves once its decisions are stored.
 */
export function registerCheckWebhooks(app: Probot, relay: CheckWebhookDeps, context: CheckWebhookContext): void {
  const handled = async (outcome: Promise<unknown>) => {
    await outcome;
    relay.runner.kick();
  };

  app.on(["pull_request.labeled", "pull_request.synchronize"], async ({ id, name, payload }) => {
    const event = parseUpstreamEvent(name, payload);
    if (!event || event.prNumber === null || (await context.isOwnEvent(payload))) return;
    const config = await context.config();
    if (!config.upstreams.some((u) => sameRepo(u, event.repo))) return;
    const head = { repo: event.repo, number: event.prNumber, sha: event.sha };
    if (event.action === "synchronize") {
      const now = Date.now();
      // Read and validated once for both decisions: a busy PR has many records.
      const dispatches = await recordedDispatchesAsStored(relay.store, { repo: head.repo, pr: head.number });
      await handled(
        Promise.all([
          supersedeCheckRuns(
            relay,
            head,
            dispatches.map(({ record }) => record),
            now,
          ),
          supersedeDispatches(relay, head, dispatches, now),
        ]),
      );
    } else if (event.addedLabel !== null) {
      await handled(backfillLabelCheckRuns(relay, config, head, event.addedLabel, Date.now()));
    }
    relay.log.debug({ deliveryId: id, action: event.action }, "check runs updated for the pull request");
  });

  app.on("check_run.rerequested", async ({ id, payload }) => {
    const parsed = checkRunRerequest.safeParse(payload);
    const origin = parsed.success ? parseExternalId(parsed.data.check_run.external_id) : null;
    if (!parsed.success || !origin || (await context.isOwnEvent(payload))) return;
    const record = await readDispatch(relay.store, origin.requestId);
    if (!record || !sameRepo(record.upstream.repo, parsed.data.repository.full_name)) return;
    const config = await context.config();
    await handled(
      rerunCheckRuns(relay, config, { deliveryId: id, dispatches: [record], mode: "rerun-failed-jobs" }, Date.now()),
    );
  });

  // Not dropped as the app's own event: a run the app dispatched or re-ran has the app as its sender.
  app.on("workflow_run", async ({ id, payload }) => {
    const event = parseWorkflowRunEvent(payload);
    // Only runs a callback named matter; the downstream's other workflows are most of these deliveries.
    if (!event || (await readDispatchOfRun(relay.store, event.repo, event.runId)) === null) return;
    await handled(relay.store.write(workflowRunTaskOps(relay.outbox, id, event, Date.now())));
  });

  app.on("check_suite.rerequested", async ({ id, payload }) => {
    const parsed = checkSuiteRerequest.safeParse(payload);
    if (!parsed.success || (await context.isOwnEvent(payload))) return;
    const config = await context.config();
    const dispatches = await shownDispatches(relay, parsed.data.repository.full_name, parsed.data.check_suite.head_sha);
    if (dispatches.length === 0) return;
    await handled(rerunCheckRuns(relay, config, { deliveryId: id, dispatches, mode: "rerun" }, Date.now()));
  });
}

/** The latest dispatch per downstream with check runs shown on this commit. */
async function shownDispatches(
  relay: Pick<CheckWebhookDeps, "store">,
  repo: string,
  sha: string,
): Promise<DispatchRecord[]> {
  const latest = new Map<string, DispatchRecord>();
  for (const record of await recordedDispatches(relay.store, { repo, sha })) {
    const downstream = record.downstream.toLowerCase();
    if (tracksCheckRuns(record) && !latest.has(downstream)) latest.set(downstream, record);
  }
  const candidates = [...latest.values()];
  const shown = await areChecksShownMany(
    relay.store,
    candidates.map((r) => r.requestId),
  );
  return candidates.filter((_, i) => shown[i]);
}
