import type { Counter } from "prom-client";

/**
 * The counters GitHub access reports to. metrics/metrics.ts creates them (with the label values in
 * their HELP text); declared here so github/ depends on what it counts, not on the metrics module.
 */
export interface GitHubMetrics {
  githubCalls: Counter<"method" | "status" | "outcome">;
  githubRateLimitWaits: Counter<"kind">;
  /** content-creating requests sent, per installation (GitHub budgets them per installation) */
  githubWrites: Counter<"installation">;
}
