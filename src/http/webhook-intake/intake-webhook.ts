/**
 * webhook-intake/ owns a GitHub delivery from its HTTP request to Probot's handlers, once for both
 * runtimes: the checks (size, content type, headers, body shape, signature) and the SPEC §5 answer.
 * A runtime adds only an adapter that reads its request: webhook-route.ts (server), lambda/api-gateway.ts.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Probot } from "probot";
import { failureBody, RelayError } from "../../errors/failure-kinds";
import type { JsonAnswer } from "../send-json";
import { answerWebhook } from "./answer-webhook";
import {
  checkWebhookBody,
  header,
  unreadableWebhookBody,
  WEBHOOK_MAX_BYTES,
  type WebhookHeaders,
} from "./check-webhook-body";

/** What the intake reads from a runtime's request (webhooks.js's `getRequestHeader` and `getPayload`). */
export interface WebhookRequest {
  /** by lower-case name */
  headers: WebhookHeaders;
  /** The body; a runtime that can refuse more than `limitBytes` before it has read it all does (payload-too-large). */
  readBody(limitBytes: number): Promise<Buffer>;
}

/** Whose handlers a checked delivery goes to. */
export interface WebhookReceiver {
  webhooks: Probot["webhooks"];
  log: Logger;
  /** Runs once a delivery is accepted, before it is answered: on Lambda nothing runs after the answer. */
  afterAccepted?(): Promise<void>;
}

/**
 * Answers one delivery: refuses what `checkWebhookBody` refuses before asking for the receiver (on
 * Lambda that starts the container's relay, and a junk delivery should not), answers a receiver that
 * is not ready with its RelayError, and else whatever `answerWebhook` answers. The answer's
 * requestId is the delivery's id, or a fresh one when the delivery has none.
 */
export async function intakeWebhook(
  request: WebhookRequest,
  receiver: () => Promise<WebhookReceiver>,
): Promise<JsonAnswer> {
  const requestId = header(request.headers, "x-github-delivery") || randomUUID();
  const check = await request
    .readBody(WEBHOOK_MAX_BYTES)
    .then((body) => checkWebhookBody(request.headers, body), unreadableWebhookBody);
  if ("refusal" in check) return failureBody(check.refusal, requestId);
  let ready: WebhookReceiver;
  try {
    ready = await receiver();
  } catch (error) {
    if (error instanceof RelayError) return failureBody(error, requestId);
    throw error;
  }
  const answer = await answerWebhook(ready.webhooks, check.webhook, requestId, ready.log);
  if (answer.status === 200) await ready.afterAccepted?.();
  return answer;
}
