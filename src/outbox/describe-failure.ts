import { isRateLimited } from "../github/is-rate-limited";

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
  response?: { headers?: Record<string, unknown> };
}

/** Socket-level failures by their system code, in the words an operator would use. */
const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: "DNS failure",
  EAI_AGAIN: "DNS failure",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "timed out",
  UND_ERR_CONNECT_TIMEOUT: "timed out",
  UND_ERR_HEADERS_TIMEOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * A failed side effect as a person would say it: "DNS failure: could not resolve github.example",
 * "connection refused", "timed out", "HTTP 502 from GitHub", "rate limited until 12:03 UTC". Octokit
 * turns every network error into a RequestError with status 500 and no response, keeping only the
 * cause's message; so a status without a response is read as the network error it was, and codes
 * are found on the error, its causes, or in that message. Secret-free (codes, hosts, statuses).
 * Pure, given `now`.
 */
export function describeFailure(error: unknown, now: number = Date.now()): string {
  const e = (error ?? {}) as ErrorLike;
  const message = String(e.message ?? error ?? "");
  const network = networkFailure(error);
  if (network) return network;
  if (e.name === "AbortError" || e.name === "TimeoutError") return "timed out";
  const status = typeof e.status === "number" ? e.status : null;
  const headers = e.response?.headers;
  if (status !== null && (headers !== undefined || e.name !== "HttpError")) {
    if (e.name === "RelayError") return message.slice(0, 200);
    const h = headers ?? {};
    const from = e.name === "HttpError" ? " from GitHub" : "";
    if (isRateLimited(status, h, message)) {
      const until = rateLimitUntil(h, now);
      return until === null ? `rate limited by GitHub (HTTP ${status})` : `rate limited until ${clockUtc(until)}`;
    }
    return `HTTP ${status}${from}`;
  }
  return `network error: ${message.slice(0, 200)}`;
}

function networkFailure(error: unknown): string | null {
  // Walk the cause chain (fetch's TypeError wraps undici's error, which may wrap the system one).
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 5; depth += 1) {
    const e = current as ErrorLike;
    const message = String(e.message ?? "");
    // An HttpError's `code` is a deprecated alias of its status (reading it logs a warning).
    const own = e.name === "HttpError" ? undefined : e.code;
    const code =
      typeof own === "string" && own in NETWORK_CODES
        ? own
        : Object.keys(NETWORK_CODES).find((c) => new RegExp(`\\b${c}\\b`).test(message));
    if (code) {
      const words = NETWORK_CODES[code];
      const host = words === "DNS failure" ? /(?:ENOTFOUND|EAI_AGAIN)\s+(\S+)/.exec(message)?.[1] : undefined;
      return host ? `${words}: could not resolve ${host}` : words;
    }
    // Undici's own words for a peer that hung up mid-request, and AbortSignal.timeout's.
    if (/other side closed|socket hang up/i.test(message)) return "connection reset";
    if (/aborted due to timeout/i.test(message)) return "timed out";
    current = e.cause;
  }
  return null;
}

/** When GitHub said the limit lifts: `retry-after` (seconds or a date) or the primary limit's reset. */
function rateLimitUntil(headers: Record<string, unknown>, now: number): number | null {
  const retryAfter = headers["retry-after"];
  if (typeof retryAfter === "string" || typeof retryAfter === "number") {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return now + seconds * 1000;
    const date = Date.parse(String(retryAfter));
    if (!Number.isNaN(date)) return date;
  }
  const reset = Number(headers["x-ratelimit-reset"]);
  return headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset) ? reset * 1000 : null;
}

/** "HH:MM UTC" (or "HH:MM:SS UTC", for retries seconds apart): the relay's pages and records all speak UTC. */
export function clockUtc(epochMs: number, withSeconds = false): string {
  return `${new Date(epochMs).toISOString().slice(11, withSeconds ? 19 : 16)} UTC`;
}
