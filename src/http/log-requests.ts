import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { redactHeaders } from "./redact-headers";

/**
 * The server's request log: one info line per request once its answer is done (or broken off), in
 * pino-http's shape — `req` (id, method, URL, redacted headers, peer), `res` (status, headers) and
 * `responseTime` — which Probot's pretty format folds into the message. The id is the delivery's
 * X-GitHub-Delivery, else a fresh one. Nothing is built for a request whose line is below the level:
 * pino-http made a child logger per request whatever the level, the largest cost at the edge.
 */
export function logRequests(log: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (!log.isLevelEnabled("info")) return;
    const startedAt = Date.now();
    // Read now: Express rewrites request.url inside a mounted router.
    const { method, url, headers } = request;
    // Read now too: a connection broken off has no peer by the time its answer closes.
    const { remoteAddress, remotePort } = request.socket;
    response.once("close", () => {
      const { statusCode } = response;
      const delivery = headers["x-github-delivery"];
      log.info(
        {
          req: {
            id: typeof delivery === "string" && delivery !== "" ? delivery : randomUUID(),
            method,
            url,
            headers: redactHeaders(headers),
            remoteAddress,
            remotePort,
          },
          res: { statusCode, headers: response.getHeaders() },
          responseTime: Date.now() - startedAt,
        },
        `${method} ${url} ${statusCode}`,
      );
    });
  };
}
