import type { Logger } from "pino";
import { createProbotAuth } from "octokit-auth-probot";
import { ProbotOctokit } from "probot";
import type { GitHubMetrics } from "./github-metrics";
import type { GitHubCalls } from "./github-calls";
import { observedFetch } from "./observed-fetch";
import { lazyAuthStrategy } from "./lazy-auth-strategy";

/**
 * Waits longer than this (for a rate limit, or for a paced write's slot) are not slept through
 * in-process: the outbox reschedules the task instead. Kept well below the outbox's task time limit
 * (the lease is renewed meanwhile) and the check-run lock, so a task never outlives its claim.
 */
export const MAX_IN_PROCESS_WAIT_SECONDS = 15;

type LogMethod = (first: unknown, second?: string) => void;
interface OctokitLog {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/**
 * Probot's request logging passes each request body to `log.debug` as fields: a dispatch's body holds
 * the callback token, a broker write the caller's text. Debug lines keep their message only.
 */
function withoutRequestBodies(log: OctokitLog): OctokitLog {
  return {
    debug: (first, second) => log.debug(typeof first === "string" ? first : (second ?? "")),
    info: (first, second) => log.info(first, second),
    warn: (first, second) => log.warn(first, second),
    error: (first, second) => log.error(first, second),
  };
}

type ThrottleHandler = (
  retryAfter: number,
  options: { method: string; url: string },
  octokit: unknown,
  retryCount: number,
) => boolean;

/**
 * Probot's Octokit with throttle handlers that retry both primary and secondary rate limits after
 * GitHub's `retry-after` (Probot's defaults give up on secondary limits), once and only for
 * short waits, counting every wait. Probot applies its own throttle options first; this runs after
 * and keeps them. Rate limits are handled in-process; the write pacing that processes share is
 * `WritePacer`'s. Request bodies never reach the log. Every HTTP attempt is reported to `calls`
 * (metrics and health). Auth is built on a client's first request (`lazyAuthStrategy`): the client
 * Probot makes for every webhook event costs nothing unless used.
 */
export function relayOctokit(
  metrics: Pick<GitHubMetrics, "githubRateLimitWaits">,
  log: Logger,
  calls: GitHubCalls,
): typeof ProbotOctokit {
  const handler =
    (kind: "primary" | "secondary"): ThrottleHandler =>
    (retryAfter, options, _octokit, retryCount) => {
      metrics.githubRateLimitWaits.inc({ kind });
      const retry = retryCount < 1 && retryAfter <= MAX_IN_PROCESS_WAIT_SECONDS;
      log.warn({ kind, retryAfter, method: options.method, url: options.url, retry }, "GitHub rate limit");
      return retry;
    };
  const authStrategy = lazyAuthStrategy(createProbotAuth);
  return ProbotOctokit.defaults((given: Record<string, unknown>) => {
    const options: Record<string, unknown> = { authStrategy, ...given };
    const log = options.log ? { log: withoutRequestBodies(options.log as OctokitLog) } : {};
    const givenRequest = (options.request ?? {}) as { fetch?: typeof fetch };
    const request = { request: { ...givenRequest, fetch: observedFetch(calls.observe, givenRequest.fetch) } };
    const throttle = (options.throttle ?? {}) as Record<string, unknown>;
    if (throttle.enabled === false) return { ...options, ...log, ...request };
    return {
      ...options,
      ...log,
      ...request,
      throttle: { ...throttle, onRateLimit: handler("primary"), onSecondaryRateLimit: handler("secondary") },
    };
  });
}
