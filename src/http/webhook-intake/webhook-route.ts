import { randomUUID } from "node:crypto";
import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { Probot } from "probot";
import { readBody } from "../read-body";
import { sendJson } from "../send-json";
import { checkWebhookBody, unreadableWebhookBody, WEBHOOK_MAX_BYTES } from "./check-webhook-body";
import { answerWebhook } from "./answer-webhook";

/**
 * `POST /api/github/webhooks` on the server: reads no more than the limit, refuses what
 * `checkWebhookBody` refuses, and hands the rest to Probot's webhooks — the same steps as Lambda's
 * handler, so both answer every delivery alike.
 */
export function webhookRoute(probot: Probot, log: Logger) {
  return async (request: Request, response: Response): Promise<void> => {
    const check = await readBody(request, WEBHOOK_MAX_BYTES).then((body) => checkWebhookBody(request.headers, body), unreadableWebhookBody);
    const delivery = request.headers["x-github-delivery"];
    const answer = await answerWebhook(probot.webhooks, check, typeof delivery === "string" && delivery !== "" ? delivery : randomUUID(), log);
    sendJson(response, answer);
  };
}
