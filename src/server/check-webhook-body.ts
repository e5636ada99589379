import { RelayError } from "../http/failure-kinds";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
export const WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;

/** The body as text (what the signature is computed over), or why it is refused. */
export type WebhookBody = { text: string } | { status: 400 | 413; error: string };

const TOO_LARGE = { status: 413, error: "payload too large" } as const;
const NOT_JSON = { status: 400, error: "request body is not valid JSON" } as const;

/**
 * What both deployments check before Probot sees a webhook: a bounded size (413) and well-formed JSON
 * (400), which Probot would otherwise read without limit and answer with a 500 after verifying the
 * signature.
 */
export function checkWebhookBody(body: Buffer): WebhookBody {
  if (body.length > WEBHOOK_MAX_BYTES) return TOO_LARGE;
  const text = body.toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
  return { text };
}

/** The refusal for a body that could not be read: over the limit (413), or broken off (400). */
export function unreadableWebhookBody(error: unknown): WebhookBody {
  return error instanceof RelayError && error.kind === "payload-too-large" ? TOO_LARGE : NOT_JSON;
}
