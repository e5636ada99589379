/**
 * Whether GitHub refused a request for rate, not permission: 429, or a 403 that is a primary limit
 * (`x-ratelimit-remaining: 0`), carries `retry-after`, or says it is a secondary limit (GitHub's
 * secondary limits answer 403 with that message and sometimes no header). Pure.
 */
export function isRateLimited(status: number | null, headers: Record<string, unknown>, message: string): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return (
    headers["x-ratelimit-remaining"] === "0" ||
    headers["retry-after"] !== undefined ||
    /secondary rate limit|abuse detection/i.test(message)
  );
}

/** GitHub asks for at least a minute after a secondary limit that names no `retry-after`. */
export const SECONDARY_LIMIT_DEFAULT_WAIT_MS = 60_000;
