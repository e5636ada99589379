import type { Response } from "express";

export interface JsonAnswer {
  status: number;
  body: unknown;
  /** e.g. Retry-After on a 429 */
  headers?: Record<string, string>;
}

/** Sends an answer as JSON, unless one was sent already (a route that failed halfway). */
export function sendJson(response: Response, { status, body, headers = {} }: JsonAnswer): void {
  if (response.headersSent) return;
  response.status(status).set(headers).type("application/json").send(JSON.stringify(body));
}
