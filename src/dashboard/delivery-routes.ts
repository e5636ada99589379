import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { Outbox } from "../outbox/outbox";
import type { Store } from "../store/store";
import { listDeliveries, parseDeliveriesQuery, parseDeliveryId, readDelivery } from "./delivery-view";
import { DELIVERY_CSP, renderDelivery } from "./render-delivery";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { jsonRoute } from "../http/json-route";

/** A delivery's view is read from the store and the outbox (what is still waiting). */
export interface DeliveryRoutesDeps {
  store: Store;
  outbox: Outbox;
  log: Logger;
}

const UNKNOWN_DELIVERY = "the relay knows no verified delivery with this id (never received, or expired)";

/** SPEC §7 `GET /relay/v1/deliveries/{id}`: what happened to every configured downstream, and why. */
export function deliveryRoute(relay: DeliveryRoutesDeps) {
  return jsonRoute(relay.log, async ({ request }) => {
    const id = parseDeliveryId(request.params.id);
    const delivery = await readDelivery(relay.store, relay.outbox, id);
    if (!delivery) {
      throw new RelayError("no-dispatch", UNKNOWN_DELIVERY, "delivery-unknown");
    }
    return { body: { ok: true, ...delivery } };
  });
}

/** `GET /relay/v1/deliveries?upstream=o/r&pr=N`: a PR's deliveries in order; without `pr`, the latest first. */
export function deliveriesRoute(relay: DeliveryRoutesDeps) {
  return jsonRoute(relay.log, async ({ request }) => {
    const query = parseDeliveriesQuery(request.query);
    return { body: { ok: true, deliveries: await listDeliveries(relay.store, relay.outbox, query) } };
  });
}

/** `GET /relay/deliveries/{id}`: the same as a page, under the dashboard's policy (no scripts). */
export function deliveryPageRoute(relay: DeliveryRoutesDeps) {
  return async (request: Request, response: Response) => {
    try {
      const delivery = await readDelivery(relay.store, relay.outbox, parseDeliveryId(request.params.id));
      if (!delivery) throw new RelayError("no-dispatch", UNKNOWN_DELIVERY, "delivery-unknown");
      response.set("content-security-policy", DELIVERY_CSP).type("html").send(renderDelivery(delivery));
    } catch (error) {
      const failure =
        error instanceof RelayError ? error : new RelayError("store-unavailable", "the page could not read the store");
      if (!(error instanceof RelayError)) relay.log.error({ err: error }, "delivery page failed");
      const { status, body } = failureBody(failure, "delivery-page");
      response.status(status).type("text/plain").send(`${body.failureKind}: ${body.message}\n`);
    }
  };
}
