import { createLambdaFunction } from "@probot/adapter-aws-lambda-serverless";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { Relay } from "../create-relay";
import { relayApp } from "../index";
import { checkWebhookBody } from "../server/check-webhook-body";
import { drainDeadline } from "./drain-deadline";
import { lambdaRelay } from "./lambda-relay";

/** GitHub waits 10 s for an answer; outbox work beyond this is left to the scheduled function. */
const DRAIN_BUDGET_MS = 2_000;
const REQUIRED_HEADERS = ["x-github-event", "x-hub-signature-256", "x-github-delivery"];

type Receive = ReturnType<typeof createLambdaFunction>;
let loaded: { relay: Relay; receive: Receive } | null = null;

function answer(statusCode: number, body: object): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/**
 * `POST /api/github/webhooks` on Lambda (API Gateway HTTP API): Probot's Lambda adapter behind the
 * same checks as the server's webhook guard. The adapter throws where the server answers, and takes
 * the body as sent, so this decodes base64 bodies and turns its errors into the server's answers
 * (a bad signature is 400, a config not loaded yet 503). Once the delivery is stored, its dispatches
 * are sent within a short budget.
 */
export async function handler(event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  if (!headers["content-type"]?.startsWith("application/json")) return answer(415, { error: 'Unsupported "Content-Type" header value. Must be "application/json"' });
  const missing = REQUIRED_HEADERS.filter((name) => !headers[name]);
  if (missing.length > 0) return answer(400, { error: `Required headers missing: ${missing.join(", ")}` });
  const body = checkWebhookBody(Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8"));
  if ("status" in body) return answer(body.status, { error: body.error });

  let relay: Relay;
  try {
    relay = await lambdaRelay();
  } catch (error) {
    console.error(`ci-relay not ready: ${error instanceof Error ? error.message : String(error)}`);
    return answer(503, { error: "relay not ready; redeliver later" });
  }
  if (loaded?.relay !== relay) loaded = { relay, receive: createLambdaFunction(relayApp(relay), { probot: relay.probot }) };
  try {
    await loaded.receive({ ...event, headers, body: body.text, isBase64Encoded: false } as unknown as Parameters<Receive>[0], context as Context);
  } catch (error) {
    // verifyAndReceive rejects with an AggregateError of the handlers' errors, as the server's middleware sees them.
    const [first] = Array.from(error as Iterable<{ status?: number; message?: string }>);
    const status = first?.status ?? 500;
    return answer(status, { error: status === 500 ? "webhook handling failed" : (first?.message ?? "refused") });
  }
  try {
    await relay.runner.drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis()));
  } catch (error) {
    relay.log.warn({ err: error }, "outbox drain after webhook failed; the scheduled function retries");
  }
  return answer(200, { ok: true });
}
