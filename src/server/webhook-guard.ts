import type { NextFunction, Request, Response } from "express";
import { readBody } from "../http/read-body";
import { RelayError } from "../http/failure-kinds";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
export const WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;

/**
 * Runs before Probot's webhook middleware: bounds the body (413) and refuses malformed JSON (400),
 * which Probot would otherwise read without limit and answer with a 500 after verifying the
 * signature. The body is handed on as text, which is what the signature is computed over.
 */
export async function webhookGuard(request: Request, response: Response, next: NextFunction): Promise<void> {
  let text: string;
  try {
    text = (await readBody(request, WEBHOOK_MAX_BYTES)).toString("utf8");
    JSON.parse(text);
  } catch (error) {
    const tooLarge = error instanceof RelayError && error.kind === "payload-too-large";
    response
      .status(tooLarge ? 413 : 400)
      .type("application/json")
      .send(JSON.stringify({ error: tooLarge ? "payload too large" : "request body is not valid JSON" }));
    return;
  }
  (request as Request & { body: string }).body = text;
  next();
}
