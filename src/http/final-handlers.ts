import { randomUUID } from "node:crypto";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { relayErrorOf } from "./relay-error-of";
import { sendJson, type JsonAnswer } from "./send-json";

/**
 * Mounted after every route, on the server and on Lambda: a path no route serves answers a JSON 404,
 * and an error no route caught answers as `uncaughtErrorAnswer` says.
 */
export function finalHandlers(log: Logger): [RequestHandler, ErrorRequestHandler] {
  const notFound: RequestHandler = (request, response) => {
    sendJson(
      response,
      failureBody(new RelayError("route-not-found", `no route for ${request.method} ${request.path}`), randomUUID()),
    );
  };
  const onError: ErrorRequestHandler = (error: unknown, request, response, next) => {
    if (response.headersSent) {
      next(error); // Express ends the broken-off answer
      return;
    }
    sendJson(response, uncaughtErrorAnswer(log, error, request.path));
  };
  return [notFound, onError];
}

/**
 * The answer to an error no route caught (Express's own, a library's, a bug): its SPEC §5 body, a
 * fault logged and answered as a retryable 503 — instead of Express's HTML page with a stack and
 * install paths in it.
 */
export function uncaughtErrorAnswer(log: Logger, error: unknown, path: string): JsonAnswer {
  const requestId = randomUUID();
  let failure = relayErrorOf(error);
  if (failure === null) {
    // Message and stack only: some libraries' errors carry the request, headers included.
    const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
    log.error({ error: { name, message, stack }, requestId, path }, "request failed");
    failure = new RelayError("store-unavailable", "the relay could not complete the request; retry later");
  }
  return failureBody(failure, requestId);
}
