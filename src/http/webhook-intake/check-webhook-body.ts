import { z } from "zod";
import { RelayError } from "../../errors/failure-kinds";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
export const WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;

/**
 * How deeply a webhook payload may nest arrays and objects. GitHub's own payloads nest about a dozen
 * levels; the store refuses records nested much deeper (Redis's cjson stops at 1000), which would turn
 * a junk delivery into a 503 that GitHub is asked to redeliver.
 */
export const WEBHOOK_MAX_DEPTH = 64;

/** Header names arrive lower-cased from Node and from the Lambda handler. */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A delivery fit to hand to Probot: the body as text is what the signature is computed over, and
 * `payload` is that text parsed (once, here).
 */
export interface CheckedWebhook {
  id: string;
  name: string;
  signature: string;
  text: string;
  payload: object;
}

export type WebhookCheck = { webhook: CheckedWebhook } | { refusal: RelayError };

const REQUIRED_HEADERS = ["x-github-event", "x-hub-signature-256", "x-github-delivery"] as const;
/** GitHub's event names: `pull_request`, `check_run`, `push`… */
const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;

/**
 * The fields Probot reads before any handler can refuse the event: the installation id becomes an
 * installation token request. Everything else a handler validates for itself.
 */
const payloadShape = z.looseObject({
  installation: z.looseObject({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).nullish(),
});

const refuse = (message: string, degradedReason = "malformed-webhook"): WebhookCheck => ({
  refusal: new RelayError("validation-failed", message, degradedReason),
});

/** A header's value, trimmed; the first of repeated ones; "" when absent. */
export function header(headers: WebhookHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? "";
}

/**
 * What every delivery passes before Probot sees it, so that Probot (which answers a payload
 * it cannot handle with a 500 or an HTML stack) only ever gets a delivery it can verify and route:
 * a bounded size (413), the JSON content type, the three delivery headers, an event name, a JSON
 * object nested no deeper than WEBHOOK_MAX_DEPTH, and a numeric installation id (400). Pure.
 */
export function checkWebhookBody(headers: WebhookHeaders, body: Buffer): WebhookCheck {
  if (body.length > WEBHOOK_MAX_BYTES) return { refusal: tooLarge() };
  if (!header(headers, "content-type").toLowerCase().startsWith("application/json")) {
    return refuse(
      'content-type must be "application/json" (the webhook\'s content type setting)',
      "unsupported-content-type",
    );
  }
  const missing = REQUIRED_HEADERS.filter((name) => header(headers, name) === "");
  if (missing.length > 0) return refuse(`required headers missing or empty: ${missing.join(", ")}`);
  const name = header(headers, "x-github-event");
  if (!EVENT_NAME.test(name)) return refuse("X-GitHub-Event is not an event name");

  const text = body.toString("utf8");
  if (nestsDeeperThan(text, WEBHOOK_MAX_DEPTH))
    return refuse(`payload nests deeper than ${WEBHOOK_MAX_DEPTH} levels`, "payload-too-deep");
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return refuse("request body is not valid JSON", "malformed-json");
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload))
    return refuse("webhook payload must be a JSON object");
  if (!payloadShape.safeParse(payload).success) return refuse("installation.id must be a positive integer");
  return {
    webhook: {
      id: header(headers, "x-github-delivery"),
      name,
      signature: header(headers, "x-hub-signature-256"),
      text,
      payload,
    },
  };
}

/** The refusal for a body that could not be read: over the limit (413), or broken off (400). */
export function unreadableWebhookBody(error: unknown): WebhookCheck {
  if (error instanceof RelayError && error.kind === "payload-too-large") return { refusal: tooLarge() };
  return refuse("request body could not be read");
}

function tooLarge(): RelayError {
  return new RelayError("payload-too-large", `webhook payload exceeds ${WEBHOOK_MAX_BYTES} bytes`);
}

/**
 * Whether JSON text opens more than `limit` arrays or objects inside one another, counted in one pass
 * without parsing (a parser or a recursive walk is what deep nesting is meant to break). Brackets
 * inside strings do not count. Strings, most of a payload's bytes, are jumped over with `indexOf`
 * rather than read a character at a time: 20 KB of PR took ~50 µs that way, seven times its
 * JSON.parse. Pure.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      i = closingQuote(text, i);
      if (i === -1) return false; // unterminated: JSON.parse refuses it
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1: one preceded by an even run of backslashes. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

const [QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = ['"', "\\", "{", "}", "[", "]"].map(
  (char) => char.charCodeAt(0),
);
