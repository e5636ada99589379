import type { Relay } from "../create-relay";
import { listDeliveries, parseDeliveriesQuery, parseDeliveryId, readDelivery } from "../dashboard/delivery-view";
import { RelayError } from "../http/failure-kinds";
import { jsonRoute } from "../http/json-route";

/** SPEC §7 `GET /relay/v1/deliveries/{id}`: what happened to every configured downstream, and why. */
export function deliveryRoute(relay: Relay) {
  return jsonRoute(relay.log, async ({ request }) => {
    const id = parseDeliveryId(request.params.id);
    const delivery = await readDelivery(relay.store, relay.outbox, id);
    if (!delivery) {
      throw new RelayError("no-dispatch", "the relay knows no verified delivery with this id (never received, or expired)", "delivery-unknown");
    }
    return { body: { ok: true, ...delivery } };
  });
}

/** `GET /relay/v1/deliveries?upstream=o/r&pr=N`: a PR's deliveries in order; without `pr`, the latest first. */
export function deliveriesRoute(relay: Relay) {
  return jsonRoute(relay.log, async ({ request }) => {
    const query = parseDeliveriesQuery(request.query);
    return { body: { ok: true, deliveries: await listDeliveries(relay.store, relay.outbox, query) } };
  });
}
