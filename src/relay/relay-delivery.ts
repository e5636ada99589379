import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { checkRunOpsForDispatch } from "../checks/check-run-effects";
import { ciflowLabelsTaskOps } from "./ciflow-labels-task";
import { wantsCheckRuns } from "../checks/wants-check-runs";
import type { RelayConfig, Transport } from "../config/types";
import type { Metrics } from "../metrics/metrics";
import { installationLane, QUEUE_LANE } from "../outbox/lanes";
import type { Outbox } from "../outbox/outbox";
import {
  claimDelivery,
  completeDelivery,
  deliveryClaimState,
  deliveryPayloadOp,
  deliverySummaryOps,
  releaseDelivery,
  writeIfDeliveryUnclaimed,
  type DeliverySummary,
} from "../records/deliveries";
import { recordDispatchOps, type DispatchRecord } from "../records/dispatches";
import type { Store, WriteOp } from "../store/store";
import { buildDeliverySummary } from "./delivery-summary";
import { explainDelivery } from "./explain-delivery";
import { githubEventTime } from "./github-event-time";
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
  /** the payload as JSON text: the verified body itself, stored as it came */
  text: string;
}

/** `in-flight`: another copy holds the claim and has not finished; the webhook answers 503 so GitHub can redeliver. */
export type DeliveryOutcome = "relayed" | "duplicate" | "in-flight" | `skipped:${string}`;

export const DISPATCH_TASK = "dispatch";
/** The outbox task that appends a queue downstream's job requests to the stream (src/queue handles it). */
export const ENQUEUE_JOB_TASK = "enqueue-job";

// Queue downstreams get job requests on the Redis stream instead of a repository_dispatch.
const taskKind = (transport: Transport) => (transport === "queue" ? ENQUEUE_JOB_TASK : DISPATCH_TASK);

/** The outbox task sending a dispatch: one per causing delivery and downstream, so a re-plan cannot double it. */
export function dispatchTaskId(transport: Transport, causeDeliveryId: string, downstream: string): string {
  return `${taskKind(transport)}:${causeDeliveryId}:${downstream.toLowerCase()}`;
}

/** A claim whose owner died before storing its plan is released for a redelivery after this. */
const CLAIM_LEASE_SECONDS = 120;

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
  const kind = taskKind(record.transport);
  return [
    ...recordDispatchOps(record),
    ...outbox.enqueueOps(
      {
        id: dispatchTaskId(record.transport, cause.deliveryId, record.downstream),
        kind,
        lane: dispatchLane(record),
        data: { requestId: record.requestId },
      },
      now,
    ),
    ...checkRunOpsForDispatch(outbox, config, record, cause.showChecks, now),
  ];
}

/** A dispatch waits behind its downstream installation's other writes only; a job request behind nothing paced. */
function dispatchLane(record: DispatchRecord): string {
  return record.transport === "queue" ? QUEUE_LANE : installationLane(record.downstream);
}

/**
 * SPEC §3, exactly once: claims a verified delivery, plans its dispatches and stores them durably in
 * one atomic write (records, payload, outbox tasks, and the "done" mark together), so the webhook can
 * answer as soon as this resolves. Redeliveries and concurrent copies find the claim and do nothing.
 */
export async function relayDelivery(
  deps: RelayDeliveryDeps,
  config: RelayConfig,
  delivery: Delivery,
): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? Date.now();
  const event = parseUpstreamEvent(delivery.name, delivery.payload);
  if (!event) return "skipped:not-relayed-event";
  const plan = planDispatches(config, event);
  const received = { id: delivery.id, receivedAt: now, eventAt: githubEventTime(delivery.name, delivery.payload) };
  if (!plan.relay) {
    await storeSkipSummary(deps, buildDeliverySummary(received, event, plan.explanation));
    return `skipped:${plan.reason}`;
  }

  // A claim of our own: only its owner may complete or release it.
  const claim = `pending:${randomUUID()}`;
  if (!(await claimDelivery(deps.store, delivery.id, claim, CLAIM_LEASE_SECONDS)))
    return awaitOtherClaim(deps.store, delivery.id);

  // Once per delivery, however many downstreams it fans out to, and only for a repository_dispatch
  // (job requests carry no payload). It lives as long as the dispatch records: a re-run from the PR
  // re-dispatches from it.
  const ops: WriteOp[] = plan.downstreams.some((d) => d.transport === "dispatch")
    ? [deliveryPayloadOp(delivery.id, delivery.text)]
    : [];
  const dispatchIds = new Map<string, string>();
  for (const downstream of plan.downstreams) {
    const record: DispatchRecord = {
      requestId: randomUUID(),
      deliveryId: delivery.id,
      event: event.event,
      action: event.action,
      upstream: {
        repo: event.repo,
        sha: event.sha,
        ref: event.ref,
        prNumber: event.prNumber,
        cloneUrl: event.cloneUrl,
      },
      downstream: downstream.repo,
      level: downstream.level,
      transport: downstream.transport,
      state: "pending",
      createdAt: now,
      dispatchedAt: null,
      lastError: null,
    };
    dispatchIds.set(downstream.repo, record.requestId);
    ops.push(
      ...newDispatchOps(
        deps.outbox,
        config,
        record,
        { deliveryId: delivery.id, showChecks: wantsCheckRuns(config, downstream, event.labels) },
        now,
      ),
    );
  }
  // A ciflow tag names PR #N: its L3 label rules need the PR's labels, read later by a task.
  if (plan.downstreams.some((d) => d.level === "L3"))
    ops.push(...ciflowLabelsTaskOps(deps.outbox, delivery.id, event, now));
  // The explanation commits with the plan: it can never name a dispatch that was not stored.
  ops.push(...deliverySummaryOps(buildDeliverySummary(received, event, plan.explanation, dispatchIds)));

  let stored: boolean;
  try {
    stored = await completeDelivery(deps.store, delivery.id, claim, ops);
  } catch (error) {
    // Release the claim so a redelivery can succeed, unless the write was applied after all (a
    // timed-out reply): then the key says "done" and must stay.
    await releaseDelivery(deps.store, delivery.id, claim).catch(() => undefined);
    throw error;
  }
  if (!stored) return awaitOtherClaim(deps.store, delivery.id); // our lease ran out and another copy claimed it
  deps.log.info(
    {
      deliveryId: delivery.id,
      event: delivery.name,
      upstream: event.repo,
      sha: event.sha,
      downstreams: plan.downstreams.map((d) => d.repo),
    },
    "delivery relayed",
  );
  return "relayed";
}

/**
 * SPEC §3: events the app caused itself are never relayed; a cheap summary still says why (SPEC §7),
 * when a config is loaded to name the downstreams. Never fails the webhook.
 */
export async function explainOwnEvent(
  deps: RelayDeliveryDeps,
  config: RelayConfig | null,
  delivery: Omit<Delivery, "text">,
): Promise<void> {
  const event = parseUpstreamEvent(delivery.name, delivery.payload);
  if (!config || !event) return;
  const received = {
    id: delivery.id,
    receivedAt: deps.now?.() ?? Date.now(),
    eventAt: githubEventTime(delivery.name, delivery.payload),
  };
  await storeSkipSummary(
    deps,
    buildDeliverySummary(received, event, explainDelivery(config, event, { ownEvent: true })),
  );
}

/**
 * A skipped delivery has no work to lose: if its summary cannot be stored, the answer to GitHub is
 * still right, so this logs and goes on. A redelivery re-decides it and writes its summary afresh,
 * unless the delivery was relayed before (a config changed since): that summary names its dispatches.
 */
async function storeSkipSummary(deps: RelayDeliveryDeps, summary: DeliverySummary): Promise<void> {
  await writeIfDeliveryUnclaimed(deps.store, summary.deliveryId, deliverySummaryOps(summary)).catch(
    (error: unknown) => {
      deps.log.warn({ err: error, deliveryId: summary.deliveryId }, "could not store why the delivery was not relayed");
    },
  );
}

/** How long a copy waits for the one that holds the claim: concurrent copies finish in milliseconds. */
const OTHER_CLAIM_WAIT_MS = 5_000;
const OTHER_CLAIM_POLL_MS = 50;

/**
 * A concurrent copy is answered once the claim's owner has stored the plan ("duplicate"). If it does
 * not within a few seconds its owner may have died, and answering 200 would lose the delivery.
 */
async function awaitOtherClaim(store: Store, deliveryId: string): Promise<DeliveryOutcome> {
  const deadline = Date.now() + OTHER_CLAIM_WAIT_MS;
  for (;;) {
    const state = await deliveryClaimState(store, deliveryId);
    if (state === "done") return "duplicate";
    if (state === "free" || Date.now() >= deadline) return "in-flight";
    await new Promise((resolve) => setTimeout(resolve, OTHER_CLAIM_POLL_MS));
  }
}
