import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { WebhookRequest } from "../http/webhook-intake/intake-webhook";
import type { JsonAnswer } from "../http/send-json";

/**
 * The webhook intake's Lambda adapter: API Gateway's event as the intake's request. The body arrives
 * whole (base64 when binary), so the intake's own size check refuses what is over the limit.
 */
export function apiGatewayRequest(event: APIGatewayProxyEventV2): WebhookRequest {
  return {
    // The intake reads names lower-case, as Node gives them; not every event source lower-cases them.
    headers: Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    readBody: async () => Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8"),
  };
}

/** An answer as API Gateway's result, for the webhook and http functions alike. */
export function apiGatewayAnswer({ status, body, headers }: JsonAnswer): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
