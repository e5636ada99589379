import { isRateLimited } from "./is-rate-limited";

/**
 * What one HTTP attempt to GitHub came to, as the `outcome` label of
 * `ci_relay_github_api_calls_total` names it. `unauthorized` is split from other 4xx because a
 * revoked key or a skewed clock fails every call while other 4xx are GitHub answering normally.
 */
export const GITHUB_CALL_OUTCOMES = [
  "ok",
  "client_error",
  "unauthorized",
  "rate_limited",
  "server_error",
  "network_error",
] as const;
export type GitHubCallOutcome = (typeof GITHUB_CALL_OUTCOMES)[number];

/** The outcomes that mean the relay cannot get anything done at GitHub (SPEC §6 `github-failing`). */
const FAILING: ReadonlySet<GitHubCallOutcome> = new Set([
  "unauthorized",
  "rate_limited",
  "server_error",
  "network_error",
]);

export function isFailingOutcome(outcome: GitHubCallOutcome): boolean {
  return FAILING.has(outcome);
}

/** An answer GitHub gave: status, headers (lower-case names) and, for a 403, its message. Pure. */
export function answeredOutcome(status: number, headers: Record<string, unknown>, message: string): GitHubCallOutcome {
  if (status < 400) return "ok";
  if (isRateLimited(status, headers, message)) return "rate_limited";
  if (status >= 500) return "server_error";
  if (status === 401) return "unauthorized";
  return "client_error";
}

/** `2xx`..`5xx`, or `network` when no answer came: the `status` label. Pure. */
export function statusClass(status: number | null): string {
  return status === null ? "network" : `${String(status)[0]}xx`;
}
