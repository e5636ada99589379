import type { NextFunction, Request, Response } from "express";
import { readBody } from "../http/read-body";
import { checkWebhookBody, unreadableWebhookBody, WEBHOOK_MAX_BYTES } from "./check-webhook-body";

/**
 * Runs before Probot's webhook middleware: refuses what `checkWebhookBody` refuses, reading no more
 * than the limit. The body is handed on as text, which is what the signature is computed over.
 */
export async function webhookGuard(request: Request, response: Response, next: NextFunction): Promise<void> {
  const body = await readBody(request, WEBHOOK_MAX_BYTES).then(checkWebhookBody, unreadableWebhookBody);
  if ("status" in body) {
    response.status(body.status).type("application/json").send(JSON.stringify({ error: body.error }));
    return;
  }
  (request as Request & { body: string }).body = body.text;
  next();
}
