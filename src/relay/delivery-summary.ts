import type { DeliverySummary } from "../records/deliveries";
import type { DeliveryExplanation } from "./explain-delivery";
import type { UpstreamEvent } from "./upstream-event";

/** The summary of a decided delivery; `dispatchIds` maps a dispatched downstream's repo to its request id. */
export function buildDeliverySummary(
  delivery: { id: string; receivedAt: number; eventAt: number | null },
  event: UpstreamEvent,
  explanation: DeliveryExplanation,
  dispatchIds: ReadonlyMap<string, string> = new Map(),
): DeliverySummary {
  return {
    deliveryId: delivery.id,
    event: event.event,
    action: event.action,
    receivedAt: delivery.receivedAt,
    eventAt: delivery.eventAt,
    upstream: { repo: event.repo, sha: event.sha, ref: event.ref, prNumber: event.prNumber },
    downstreams: explanation.downstreams.map((d) => ({
      repo: d.downstream.repo,
      level: d.downstream.level,
      transport: d.downstream.transport,
      dispatched: d.dispatch,
      reason: d.dispatch ? d.note : d.reason,
      detail: d.detail,
      dispatchId: d.dispatch ? (dispatchIds.get(d.downstream.repo) ?? null) : null,
    })),
  };
}
