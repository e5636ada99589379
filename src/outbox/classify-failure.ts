import { isRateLimited, SECONDARY_LIMIT_DEFAULT_WAIT_MS } from "../github/is-rate-limited";
import { describeFailure } from "./describe-failure";

/**
 * Whether a failed side effect is worth retrying, and when the far side asked us to come back.
 * Understands Octokit's RequestError and fetch-style errors by shape (status, response headers),
 * so HUD and GitHub failures are judged alike. Pure.
 */
export interface FailureClass {
  retryable: boolean;
  retryAfterMs: number | null;
  /** short, secret-free text for records and logs, in plain words (`describeFailure`) */
  summary: string;
}

interface HttpishError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown> };
}

export function classifyFailure(error: unknown, now: number = Date.now()): FailureClass {
  const e = (error ?? {}) as HttpishError;
  const status = typeof e.status === "number" ? e.status : null;
  const headers = e.response?.headers ?? {};
  const retryAfterMs = parseRetryAfter(headers["retry-after"], now) ?? rateLimitResetMs(headers, now);
  if (status === null) {
    return { retryable: true, retryAfterMs: null, summary: describeFailure(error, now) };
  }
  const rateLimited = isRateLimited(status, headers, String(e.message ?? ""));
  const retryable = rateLimited || status >= 500 || status === 408;
  const wait = rateLimited && retryAfterMs === null ? SECONDARY_LIMIT_DEFAULT_WAIT_MS : retryAfterMs;
  return { retryable, retryAfterMs: wait, summary: describeFailure(error, now) };
}

function parseRetryAfter(value: unknown, now: number): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function rateLimitResetMs(headers: Record<string, unknown>, now: number): number | null {
  if (headers["x-ratelimit-remaining"] !== "0") return null;
  const reset = Number(headers["x-ratelimit-reset"]);
  return Number.isFinite(reset) ? Math.max(0, reset * 1000 - now) : null;
}
