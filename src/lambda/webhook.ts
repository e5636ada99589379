import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { Relay } from "../create-relay";
import { RelayError } from "../errors/failure-kinds";
import { intakeWebhook, type WebhookReceiver } from "../http/webhook-intake/intake-webhook";
import { relayApp } from "../index";
import { apiGatewayAnswer, apiGatewayRequest } from "./api-gateway";
import { drainDeadline } from "./drain-deadline";
import { readyLambdaRelay } from "./lambda-relay";

/** GitHub waits 10 s for an answer; outbox work beyond this is left to the scheduled function. */
const DRAIN_BUDGET_MS = 2_000;

/** The relay whose handlers this container's Probot has loaded. */
let loaded: Relay | null = null;

/**
 * `POST /api/github/webhooks` on Lambda (API Gateway HTTP API): the server's webhook intake with API
 * Gateway's event in place of Node's request — the same checks, the same Probot webhooks, the same
 * answers. The container's relay is started only for a delivery the checks passed; once the delivery
 * is stored, its dispatches are sent within a short budget.
 */
export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  const answer = await intakeWebhook(apiGatewayRequest(event), () => receiver(context));
  return apiGatewayAnswer(answer);
}

async function receiver(context?: Context): Promise<WebhookReceiver> {
  const relay = await readyLambdaRelay("redeliver later");
  if (relay instanceof RelayError) throw relay; // answered by the intake
  if (loaded !== relay) {
    await relay.probot.load(relayApp(relay));
    loaded = relay;
  }
  return {
    webhooks: relay.probot.webhooks,
    log: relay.log,
    afterAccepted: () =>
      relay.runner.drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis())).then(
        () => undefined,
        (error: unknown) =>
          relay.log.warn({ err: error }, "outbox drain after webhook failed; the scheduled function retries"),
      ),
  };
}
