import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { Metrics } from "./metrics";

/** The outbox gauges are read at scrape time, then the registry is rendered. */
export interface MetricsRouteDeps {
  metrics: Metrics;
  outbox: { depth(): Promise<number>; oldestDueSeconds(now: number): Promise<number> };
  log: Logger;
  now: () => number;
}

/** SPEC §7 `GET /relay/metrics`: Prometheus text. The outbox gauges are read from the store at scrape time. */
export function metricsRoute(relay: MetricsRouteDeps) {
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
