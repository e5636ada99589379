import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { checkRunOpsForDispatch } from "../checks/check-run-effects";
import { wantsCheckRuns } from "../checks/wants-check-runs";
import type { RelayConfig } from "../config/types";
import type { Metrics } from "../metrics/metrics";
import type { Outbox } from "../outbox/outbox";
import { ENQUEUE_JOB_TASK } from "../queue/job-request";
import type { Store, WriteOp } from "../store/store";
import { recordDispatchOps, RECORD_TTL_SECONDS, type DispatchRecord } from "./dispatch-record";
import { planDispatches } from "./plan-dispatches";
import { parseUpstreamEvent } from "./upstream-event";

export interface RelayDeliveryDeps {
  store: Store;
  outbox: Outbox;
  metrics: Metrics;
  log: Logger;
  now?: () => number;
}

export interface Delivery {
  id: string;
  name: string;
  payload: unknown;
}

export type DeliveryOutcome = "relayed" | "duplicate" | "in-flight" | `skipped:${string}`;

export const DISPATCH_TASK = "dispatch";
export const deliveryKey = (id: string) => `relay:delivery:${id}`;
export const payloadKey = (id: string) => `relay:payload:${id}`;
/** A claim whose owner died before storing its plan is released for a redelivery after this. */
const CLAIM_LEASE_SECONDS = 120;
/** GitHub lets people redeliver for days; remember accepted deliveries longer than that. */
const DELIVERY_MEMORY_SECONDS = 8 * 24 * 3600;

/**
 * Everything a new dispatch writes with the decision to make it: its record, its outbox task (one
 * per causing delivery and downstream, so a re-plan cannot double it) and its check runs (SPEC §3).
 * The cause is the upstream delivery, or the `rerequested` delivery that re-dispatches it.
 */
export function newDispatchOps(
  outbox: Outbox,
  config: RelayConfig,
  record: DispatchRecord,
  cause: { deliveryId: string; showChecks: boolean },
  now: number,
): WriteOp[] {
  // Queue downstreams get job requests on the Redis stream instead of a repository_dispatch.
  const kind = record.transport === "queue" ? ENQUEUE_JOB_TASK : DISPATCH_TASK;
  return [
    ...recordDispatchOps(record),
    ...outbox.enqueueOps({ id: `${kind}:${cause.deliveryId}:${record.downstream.toLowerCase()}`, kind, data: { requestId: record.requestId } }, now),
    ...checkRunOpsForDispatch(outbox, config, record, cause.showChecks, now),
  ];
}

/**
 * SPEC §3, exactly once: claims a verified delivery, plans its dispatches and stores them durably in
 * one atomic write (records, payload, outbox tasks, and the "done" mark together), so the webhook can
 * answer as soon as this resolves. Redeliveries and concurrent copies find the claim and do nothing.
 */
export async function relayDelivery(deps: RelayDeliveryDeps, config: RelayConfig, delivery: Delivery): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? Date.now();
  const event = parseUpstreamEvent(delivery.name, delivery.payload);
  if (!event) return "skipped:not-relayed-event";
  const plan = planDispatches(config, event);
  if (!plan.relay) return `skipped:${plan.reason}`;

  const key = deliveryKey(delivery.id);
  if (!(await deps.store.setIfAbsent(key, "pending", CLAIM_LEASE_SECONDS))) {
    return (await deps.store.get(key)) === "done" ? "duplicate" : "in-flight";
  }

  const ops: WriteOp[] = [
    { op: "set", key: payloadKey(delivery.id), value: JSON.stringify(delivery.payload), ttlSeconds: RECORD_TTL_SECONDS },
  ];
  for (const downstream of plan.downstreams) {
    const record: DispatchRecord = {
      requestId: randomUUID(),
      deliveryId: delivery.id,
      event: event.event,
      action: event.action,
      upstream: { repo: event.repo, sha: event.sha, ref: event.ref, prNumber: event.prNumber },
      downstream: downstream.repo,
      level: downstream.level,
      transport: downstream.transport,
      state: "pending",
      createdAt: now,
      dispatchedAt: null,
      lastError: null,
    };
    ops.push(...newDispatchOps(deps.outbox, config, record, { deliveryId: delivery.id, showChecks: wantsCheckRuns(config, downstream, event.labels) }, now));
  }
  ops.push({ op: "set", key, value: "done", ttlSeconds: DELIVERY_MEMORY_SECONDS });

  try {
    await deps.store.write(ops);
  } catch (error) {
    // Release the claim so GitHub's (or a person's) redelivery can succeed.
    await deps.store.write([{ op: "del", key }]).catch(() => undefined);
    throw error;
  }
  deps.log.info(
    { deliveryId: delivery.id, event: delivery.name, upstream: event.repo, sha: event.sha, downstreams: plan.downstreams.map((d) => d.repo) },
    "delivery relayed",
  );
  return "relayed";
}
