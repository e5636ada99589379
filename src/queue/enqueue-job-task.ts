/**
 * queue/ owns the relay's side of the queue transport (SPEC §3): the `jobrequest.v1` contract and
 * its stream keys, building a dispatch's job requests, the outbox task that appends them exactly once,
 * and the start-up check that a queue downstream has Redis. The consumer side is src/worker/.
 */
import type { Logger } from "pino";
import type { ConfigSource } from "../config/config-source";
import { sameRepo } from "../config/types";
import type { Metrics } from "../metrics/metrics";
import type { Task } from "../outbox/outbox";
import type { TaskHandler } from "../outbox/outbox-runner";
import { markDispatched, readDispatch, updateDispatch } from "../records/dispatches";
import { appendJobRequest } from "../records/job-requests";
import type { ENQUEUE_JOB_TASK } from "../relay/relay-delivery";
import { givenUp, mintCallbackToken, recordRetry } from "../relay/dispatch-task";
import type { Store } from "../store/store";
import { buildJobRequests } from "./build-job-requests";

export interface EnqueueJobTaskDeps {
  store: Store;
  config: Pick<ConfigSource, "get">;
  metrics: Metrics;
  log: Logger;
  publicUrl: string;
  /** `https://github.com`, or the GitHub Enterprise host */
  webBaseUrl: string;
  relayTokenSecrets: readonly string[];
  now?: () => number;
}

/**
 * SPEC §3 queue transport: appends one dispatch's job requests to `relay:jobs`, each exactly once —
 * the XADD and the marker that it happened commit together, only if the marker is absent — with a
 * callback token minted now (stored nowhere but in the entries). Then marks the dispatch sent.
 */
export function enqueueJobTask(deps: EnqueueJobTaskDeps): TaskHandler<typeof ENQUEUE_JOB_TASK> {
  const now = () => deps.now?.() ?? Date.now();
  return {
    async run(task: Task<typeof ENQUEUE_JOB_TASK>) {
      const record = await readDispatch(deps.store, task.data.requestId);
      if (!record || record.state !== "pending") return; // already enqueued, or expired: nothing to do
      const config = await deps.config.get();
      if (config === null) throw new Error("relay config not loaded yet");
      const downstream = config.downstreams.find((d) => sameRepo(d.repo, record.downstream) && d.transport === "queue");
      if (downstream === undefined) {
        await updateDispatch(deps.store, record.requestId, (r) => ({
          ...r,
          state: "failed",
          lastError: "no longer a queue downstream in the relay config",
          attempts: task.attempts + 1,
          nextAttemptAt: null,
          failedAt: now(),
        }));
        deps.metrics.dispatches.inc({ transport: "queue", outcome: "given_up" });
        return;
      }
      const requests = buildJobRequests({
        config,
        downstream,
        record,
        webBaseUrl: deps.webBaseUrl,
        callbackUrl: `${deps.publicUrl}/relay/v1/callback`,
        callbackToken: await mintCallbackToken(record, deps.relayTokenSecrets, now()),
        submittedAt: now(),
      });
      for (const request of requests) await appendJobRequest(deps.store, request, downstream.maxDeliveries);
      const sentAt = now();
      await markDispatched(deps.store, record.requestId, sentAt, task.attempts + 1);
      deps.metrics.dispatches.inc({ transport: "queue", outcome: "sent" });
      deps.metrics.dispatchLatency.observe((sentAt - record.createdAt) / 1000);
      deps.log.info(
        { requestId: record.requestId, downstream: record.downstream, jobs: requests.map((r) => r.job_id) },
        "job requests enqueued",
      );
    },
    async retrying(task, failure, next) {
      deps.metrics.dispatches.inc({ transport: "queue", outcome: "retried" });
      await recordRetry(deps.store, task, failure, next);
    },
    async giveUp(task, failure) {
      await updateDispatch(deps.store, task.data.requestId, givenUp(task, failure, now()));
      deps.metrics.dispatches.inc({ transport: "queue", outcome: "given_up" });
    },
  };
}
