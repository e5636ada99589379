import type { Logger } from "pino";
import { mintRelayToken } from "../auth/relay-token";
import type { AppGitHub } from "../github/app-github";
import { OUTBOX_WRITE_WAIT_MS } from "../github/pace-writes";
import type { Metrics } from "../metrics/metrics";
import type { FailureClass } from "../outbox/classify-failure";
import type { OutboxTask, Task } from "../outbox/outbox";
import type { TaskContext, TaskHandler } from "../outbox/outbox-runner";
import { readDeliveryPayload } from "../records/deliveries";
import { markDispatched, readDispatch, updateDispatch, type DispatchRecord } from "../records/dispatches";
import type { Store } from "../store/store";
import { buildClientPayload } from "./build-client-payload";
import type { DISPATCH_TASK, ENQUEUE_JOB_TASK } from "./relay-delivery";

export interface DispatchTaskDeps {
  store: Store;
  github: AppGitHub;
  metrics: Metrics;
  log: Logger;
  publicUrl: string;
  relayTokenSecrets: readonly string[];
  now?: () => number;
}

/**
 * Sends one planned dispatch: `POST /repos/{downstream}/dispatches` with a token scoped to that
 * repository, carrying a callback token minted now (it is stored nowhere else). One GitHub call in
 * steady state: installation id and token come from caches.
 */
export function dispatchTask(deps: DispatchTaskDeps): TaskHandler<typeof DISPATCH_TASK> {
  const now = () => deps.now?.() ?? Date.now();
  return {
    async run(task: Task<typeof DISPATCH_TASK>, context?: TaskContext) {
      const record = await readDispatch(deps.store, task.data.requestId);
      if (!record || record.state !== "pending") return; // already sent, or expired: nothing to do
      const payload = await readDeliveryPayload(deps.store, record.deliveryId);
      const { upstream } = record;
      const callbackToken = await mintCallbackToken(record, deps.relayTokenSecrets, now());
      const clientPayload = buildClientPayload({
        eventType: record.event,
        deliveryId: record.deliveryId,
        payload,
        relay: {
          schema: "ci-relay.dispatch.v1",
          request_id: record.requestId,
          level: record.level,
          upstream: { repo: upstream.repo, sha: upstream.sha, ref: upstream.ref, pr_number: upstream.prNumber },
          callback_url: `${deps.publicUrl}/relay/v1/callback`,
          callback_token: callbackToken,
        },
      });
      const [owner, repo] = record.downstream.split("/");
      const octokit = await deps.github.forRepo(record.downstream, { contents: "write" });
      await octokit.request("POST /repos/{owner}/{repo}/dispatches", {
        owner,
        repo,
        event_type: record.event,
        client_payload: clientPayload as unknown as Record<string, unknown>,
        // Aborted (shutting down, past its time limit, lease lost): no dispatch starts after that,
        // so whoever runs the task next does not race a late one from here. One already on the
        // wire may still have reached GitHub: the at-least-once edge the README describes.
        request: { signal: context?.signal, pacingWaitMs: OUTBOX_WRITE_WAIT_MS },
      });
      const sentAt = now();
      // GitHub has the dispatch now: a failure to record that must not make the task retry and send
      // it again. The record stays "pending" on the dashboard; callbacks work either way.
      await markDispatched(deps.store, record.requestId, sentAt, task.attempts + 1).catch((error: unknown) =>
        deps.log.error({ err: error, requestId: record.requestId }, "dispatched, but recording it failed"),
      );
      deps.metrics.dispatches.inc({ transport: "dispatch", outcome: "sent" });
      deps.metrics.dispatchLatency.observe((sentAt - record.createdAt) / 1000);
      deps.log.info(
        { requestId: record.requestId, downstream: record.downstream, attempts: task.attempts + 1 },
        "dispatched",
      );
    },
    async retrying(task, failure, next) {
      deps.metrics.dispatches.inc({ transport: "dispatch", outcome: "retried" });
      await recordRetry(deps.store, task, failure, next);
    },
    async giveUp(task, failure) {
      await updateDispatch(deps.store, task.data.requestId, givenUp(task, failure, now()));
      deps.metrics.dispatches.inc({ transport: "dispatch", outcome: "given_up" });
    },
  };
}

/**
 * The callback token of one dispatch, minted when it is sent (a GitHub dispatch or a queue job
 * request): it is stored nowhere but in the message that carries it.
 */
export async function mintCallbackToken(
  record: DispatchRecord,
  secrets: readonly string[],
  now: number,
): Promise<string> {
  if (secrets.length === 0) return ""; // only L1 downstreams are configured: their callbacks are ignored, so nothing to prove
  const { upstream } = record;
  return mintRelayToken(
    {
      sub: record.downstream.toLowerCase(),
      jti: record.requestId,
      upstream: upstream.repo,
      sha: upstream.sha,
      pr: upstream.prNumber,
      level: record.level,
      delivery: record.deliveryId,
    },
    secrets,
    new Date(now),
  );
}

/** What a dispatch-sending task's retry hook records: attempts, the error in plain words, the next try. */
export async function recordRetry(
  store: Store,
  task: Task<typeof DISPATCH_TASK | typeof ENQUEUE_JOB_TASK>,
  failure: FailureClass,
  next: { attempts: number; nextAttemptAt: number },
): Promise<void> {
  await updateDispatch(store, task.data.requestId, (r) =>
    r.state === "pending"
      ? { ...r, lastError: failure.summary, attempts: next.attempts, nextAttemptAt: next.nextAttemptAt }
      : r,
  );
}

/** A dispatch record's change when its task is given up: when, after how many attempts, and why. */
export function givenUp(
  task: Pick<OutboxTask, "attempts">,
  failure: FailureClass,
  at: number,
): (r: DispatchRecord) => DispatchRecord {
  return (r) => ({
    ...r,
    state: "failed",
    lastError: failure.summary,
    attempts: task.attempts + 1,
    nextAttemptAt: null,
    failedAt: at,
  });
}
