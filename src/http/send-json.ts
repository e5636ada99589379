import type { ServerResponse } from "node:http";

export interface JsonAnswer {
  status: number;
  body: unknown;
  /** e.g. Retry-After on a 429 */
  headers?: Record<string, string>;
}

/**
 * Sends an answer as JSON, unless one was sent already (a route that failed halfway). Plain Node, so
 * the webhook route answers without Express, and Express's `send` (an ETag hashed over every body, a
 * 304 for a matching If-None-Match, which is no SPEC §5 answer) has no say.
 */
export function sendJson(response: ServerResponse, { status, body, headers = {} }: JsonAnswer): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
