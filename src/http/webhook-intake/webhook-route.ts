import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Probot } from "probot";
import { uncaughtErrorAnswer } from "../final-handlers";
import { readBody } from "../read-body";
import { sendJson } from "../send-json";
import { intakeWebhook, type WebhookReceiver } from "./intake-webhook";

/**
 * `POST /api/github/webhooks` on the server: the intake's Node adapter, on the plain Node request
 * (createServer calls it ahead of Express). The body is read no further than the limit (a declared
 * Content-Length over it is refused unread); an error the intake did not foresee is answered as
 * Express's final handler would.
 */
export function webhookRoute(probot: Probot, log: Logger) {
  const receiver: WebhookReceiver = { webhooks: probot.webhooks, log };
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const answer = await intakeWebhook(
      { headers: request.headers, readBody: (limitBytes) => readBody(request, limitBytes) },
      async () => receiver,
    ).catch((error: unknown) => uncaughtErrorAnswer(log, error, request.url ?? ""));
    sendJson(response, answer);
  };
}
