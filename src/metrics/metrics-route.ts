import type { Request, Response } from "express";
import type { Relay } from "../create-relay";

/** SPEC §7 `GET /relay/metrics`: Prometheus text. The outbox gauges are read from the store at scrape time. */
export function metricsRoute(relay: Relay) {
  return async (_request: Request, response: Response) => {
    try {
      relay.metrics.outboxDepth.set(await relay.outbox.depth());
      relay.metrics.outboxOldestDue.set(await relay.outbox.oldestDueSeconds(relay.now()));
    } catch (error) {
      relay.log.warn({ err: error }, "outbox gauges unavailable for metrics");
    }
    response.type(relay.metrics.registry.contentType).send(await relay.metrics.registry.metrics());
  };
}
