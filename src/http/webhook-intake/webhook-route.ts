import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { Probot } from "probot";
import { readBody } from "../read-body";
import { sendJson } from "../send-json";
import { intakeWebhook, type WebhookReceiver } from "./intake-webhook";

/**
 * `POST /api/github/webhooks` on the server: the intake's Node adapter. The body is read no further
 * than the limit (a declared Content-Length over it is refused unread).
 */
export function webhookRoute(probot: Probot, log: Logger) {
  const receiver: WebhookReceiver = { webhooks: probot.webhooks, log };
  return async (request: Request, response: Response): Promise<void> => {
    const answer = await intakeWebhook(
      { headers: request.headers, readBody: (limitBytes) => readBody(request, limitBytes) },
      async () => receiver,
    );
    sendJson(response, answer);
  };
}
