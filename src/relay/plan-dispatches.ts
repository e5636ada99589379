/**
 * relay/ owns an upstream event's way to its dispatches: parsing the event, explaining per downstream
 * who gets it and why (pure), planning and building client_payloads (pure), the delivery write that
 * stores them with their tasks, the dispatch task, and re-dispatches (re-runs, ciflow label reads).
 */
import type { Downstream, RelayConfig } from "../config/types";
import { deliverySkipReason, explainDelivery, type DeliveryExplanation } from "./explain-delivery";
import type { UpstreamEvent } from "./upstream-event";
import type { SkipReason } from "../vocabulary/skip-reasons";

export type DispatchPlan =
  | { relay: true; downstreams: Downstream[]; explanation: DeliveryExplanation }
  | { relay: false; reason: SkipReason; explanation: DeliveryExplanation };

/**
 * SPEC §2–§3: which downstreams get this upstream event. Pure. Only a filter over `explainDelivery`,
 * so what the relay does and what it says it did cannot disagree.
 */
export function planDispatches(config: RelayConfig, event: UpstreamEvent): DispatchPlan {
  const explanation = explainDelivery(config, event);
  const reason = deliverySkipReason(explanation);
  if (reason !== null) return { relay: false, reason, explanation };
  const downstreams = explanation.downstreams.flatMap((d) => (d.dispatch ? [d.downstream] : []));
  return { relay: true, downstreams, explanation };
}
