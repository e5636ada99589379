/**
 * metrics/ owns the SPEC §7 Prometheus metrics: one registry per relay with every counter, gauge and
 * histogram (HELP lists the label values), and the `/relay/metrics` route. Modules report into it; it
 * depends on none of them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { GITHUB_CALL_OUTCOMES } from "../github/github-call-outcome";

/**
 * The relay's Prometheus metrics (SPEC §7), one registry per app instance so tests and several apps
 * in one process do not share counters. Each HELP text lists the label values the relay emits;
 * test/unit/metrics/metrics.test.ts holds the code to that.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ci_relay_process_" });
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    deliveries: new Counter({
      name: "ci_relay_webhook_deliveries_total",
      help: "Webhook deliveries by event and outcome (relayed, duplicate, in-flight, own-event, skipped:<reason>)",
      labelNames: ["event", "outcome"] as const,
      registers: [registry],
    }),
    dispatches: new Counter({
      name: "ci_relay_dispatches_total",
      help: "Downstream dispatches by transport and outcome (sent, retried, given_up, superseded)",
      labelNames: ["transport", "outcome"] as const,
      registers: [registry],
    }),
    callbacks: new Counter({
      name: "ci_relay_callbacks_total",
      help: "Callbacks by outcome (accepted, duplicate, ignored, or the failure kind)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    brokerRequests: new Counter({
      name: "ci_relay_broker_requests_total",
      help: "Broker requests by operation and outcome (ok, or the failure kind)",
      labelNames: ["operation", "outcome"] as const,
      registers: [registry],
    }),
    outboxTasks: new Counter({
      name: "ci_relay_outbox_tasks_total",
      help: "Outbox task runs by kind and outcome (done, retry, deferred, given_up)",
      labelNames: ["kind", "outcome"] as const,
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "ci_relay_outbox_depth",
      help: "Tasks in the outbox (due, claimed or scheduled for a retry), read at scrape time",
      registers: [registry],
    }),
    outboxOldestDue: new Gauge({
      name: "ci_relay_outbox_oldest_due_seconds",
      help: "How long the longest-waiting due outbox task has been due (0 when none is), read at scrape time",
      registers: [registry],
    }),
    githubCalls: new Counter({
      name: "ci_relay_github_api_calls_total",
      help: `GitHub API requests, every attempt, by method, status class (2xx, 3xx, 4xx, 5xx, network) and outcome (${GITHUB_CALL_OUTCOMES.join(", ")})`,
      labelNames: ["method", "status", "outcome"] as const,
      registers: [registry],
    }),
    redeliveries: new Counter({
      name: "ci_relay_redelivery_requests_total",
      help: "Missed webhook deliveries the relay asked GitHub to redeliver, by outcome (requested, failed)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    githubWrites: new Counter({
      name: "ci_relay_github_writes_total",
      help: "GitHub content-creating requests sent, by installation id: increase over 1m is the writes per minute GitHub's content-creation budget (80) counts",
      labelNames: ["installation"] as const,
      registers: [registry],
    }),
    githubRateLimitWaits: new Counter({
      name: "ci_relay_github_rate_limit_waits_total",
      help: "Times a GitHub rate limit made the relay wait (primary or secondary), or a write was put off for its installation's pace (pacing)",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    webhookLatency: new Histogram({
      name: "ci_relay_webhook_handling_seconds",
      help: "From webhook receipt to its answer",
      buckets: seconds,
      registers: [registry],
    }),
    dispatchLatency: new Histogram({
      name: "ci_relay_dispatch_latency_seconds",
      help: "From webhook receipt to the downstream dispatch acknowledged by GitHub",
      buckets: seconds,
      registers: [registry],
    }),
    callbackLatency: new Histogram({
      name: "ci_relay_callback_handling_seconds",
      help: "Callback request handling time",
      buckets: seconds,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
