import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { Relay } from "../create-relay";
import { relayApp } from "../index";
import { checkWebhookBody } from "../http/webhook-intake/check-webhook-body";
import { failureBody, RelayError } from "../errors/failure-kinds";
import type { JsonAnswer } from "../http/send-json";
import { answerWebhook } from "../http/webhook-intake/answer-webhook";
import { drainDeadline } from "./drain-deadline";
import { lambdaRelay } from "./lambda-relay";

/** GitHub waits 10 s for an answer; outbox work beyond this is left to the scheduled function. */
const DRAIN_BUDGET_MS = 2_000;

/** The relay whose handlers this container's Probot has loaded. */
let loaded: Relay | null = null;

function answer({ status, body, headers }: JsonAnswer): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) };
}

/**
 * `POST /api/github/webhooks` on Lambda (API Gateway HTTP API): the server's webhook route, with API
 * Gateway's event in place of Node's request — the same checks, the same Probot webhooks, the same
 * answers. Once the delivery is stored, its dispatches are sent within a short budget.
 */
export async function handler(event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const requestId = headers["x-github-delivery"] || randomUUID();
  const check = checkWebhookBody(headers, Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8"));
  if ("refusal" in check) return answer(failureBody(check.refusal, requestId));

  let relay: Relay;
  try {
    relay = await lambdaRelay();
  } catch (error) {
    console.error(`ci-relay not ready: ${error instanceof Error ? error.message : String(error)}`);
    return answer(failureBody(new RelayError("store-unavailable", "relay not ready; redeliver later"), requestId));
  }
  if (loaded !== relay) {
    await relay.probot.load(relayApp(relay));
    loaded = relay;
  }
  const answered = await answerWebhook(relay.probot.webhooks, check, requestId, relay.log);
  if (answered.status !== 200) return answer(answered);
  try {
    await relay.runner.drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis()));
  } catch (error) {
    relay.log.warn({ err: error }, "outbox drain after webhook failed; the scheduled function retries");
  }
  return answer(answered);
}
