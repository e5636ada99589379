import type { Logger } from "pino";
import type { Probot } from "probot";
import { failureBody, RelayError } from "../../errors/failure-kinds";
import { relayErrorOf } from "../relay-error-of";
import type { JsonAnswer } from "../send-json";
import { rememberVerifiedText } from "../../webhooks/verified-text";
import type { CheckedWebhook } from "./check-webhook-body";

/**
 * Answers a delivery `checkWebhookBody` passed: the signature is verified over the exact body text and
 * Probot runs the handlers on the payload `checkWebhookBody` parsed (parsed once, not again by Probot),
 * and the delivery is 200 once they have stored its work. A handler's refusal (a 503 while the config is not loaded, say)
 * keeps its status; a fault nobody foresaw is logged and answered 503, so GitHub may redeliver —
 * never a 500, an HTML page or a stack.
 */
export async function answerWebhook(
  webhooks: Probot["webhooks"],
  webhook: CheckedWebhook,
  requestId: string,
  log: Logger,
): Promise<JsonAnswer> {
  if (!(await verified(webhooks, webhook))) {
    log.warn(
      { deliveryId: webhook.id },
      "webhook signature does not match: is WEBHOOK_SECRET the App's webhook secret?",
    );
    return failureBody(
      new RelayError("validation-failed", "signature does not match event payload and secret"),
      requestId,
    );
  }
  try {
    await receive(webhooks, webhook);
    return { status: 200, body: { ok: true, requestId } };
  } catch (error) {
    const refusal = handlerRefusal(error);
    if (refusal) return failureBody(refusal, requestId);
    // Message and stack only: Probot's errors carry the event, payload and signature included.
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    log.error({ error: { name, message, stack }, deliveryId: webhook.id }, "webhook handling failed");
    return failureBody(
      new RelayError("store-unavailable", "the relay could not handle this delivery; redeliver later"),
      requestId,
    );
  }
}

/** HMAC-SHA256 of the body text GitHub signed, compared in constant time (@octokit/webhooks' `verify`). */
function verified(webhooks: Probot["webhooks"], webhook: CheckedWebhook): Promise<boolean> {
  return webhooks.verify(webhook.text, webhook.signature).catch(() => false);
}

type EmitterEvent = Parameters<Probot["webhooks"]["receive"]>[0];

function receive(webhooks: Probot["webhooks"], webhook: CheckedWebhook): Promise<void> {
  rememberVerifiedText(webhook.payload, webhook.text);
  // `checkWebhookBody` checked the name's spelling; handlers ignore events they do not know.
  return webhooks.receive({ id: webhook.id, name: webhook.name, payload: webhook.payload } as EmitterEvent);
}

/** @octokit/webhooks rejects with an AggregateError of the handlers' errors; the first that says why decides. */
function handlerRefusal(error: unknown): RelayError | null {
  const errors =
    error !== null && typeof error === "object" && Symbol.iterator in error
      ? [...(error as Iterable<unknown>)]
      : [error];
  for (const each of errors) {
    const refusal = relayErrorOf(each);
    if (refusal) {
      const message = refusal.message.replace(/^\[@octokit\/webhooks\] /, "");
      return new RelayError(refusal.kind, message, refusal.degradedReason, refusal.next, refusal.retryAfterSeconds);
    }
  }
  return null;
}
