import { randomUUID } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { sendJson, type JsonAnswer } from "./send-json";

export interface RouteContext {
  /** this request's id: echoed in every answer and audit record */
  requestId: string;
  request: Request;
  startedAt: number;
}

export interface RouteResult {
  status?: number;
  body: unknown;
}

/** Called once per answered request, with the failure if there was one (audit, metrics). */
export type RouteObserver = (context: RouteContext, status: number, failure: RelayError | null) => void | Promise<void>;

/**
 * Wraps a relay endpoint: gives the request an id, turns a thrown RelayError into the SPEC §5 body,
 * and anything unexpected into a logged 503/502-free generic answer — never a stack, never a 500 for
 * bad input (bad input always surfaces as a RelayError before it can break anything).
 */
export function jsonRoute(
  log: Logger,
  handler: (context: RouteContext) => Promise<RouteResult>,
  observe?: RouteObserver,
): RequestHandler {
  return async (request: Request, response: Response) => {
    const context: RouteContext = { requestId: randomUUID(), request, startedAt: Date.now() };
    let answer: JsonAnswer;
    let failure: RelayError | null = null;
    try {
      const result = await handler(context);
      answer = { status: result.status ?? 200, body: result.body };
    } catch (error) {
      failure = error instanceof RelayError ? error : unexpected(log, context, error);
      answer = failureBody(failure, context.requestId);
    }
    // Observed (audited) before answering: on Lambda nothing runs after the answer is sent.
    await Promise.resolve(observe?.(context, answer.status, failure)).catch((error: unknown) =>
      log.error({ err: error, requestId: context.requestId }, "observing a relay request failed"),
    );
    sendJson(response, answer);
  };
}

function unexpected(log: Logger, context: RouteContext, error: unknown): RelayError {
  log.error({ err: error, requestId: context.requestId, path: context.request.path }, "relay endpoint failed");
  // The store is the one dependency every endpoint has; a failure we did not classify is almost
  // always it, and a retryable 503 is the honest answer to a runner.
  return new RelayError("store-unavailable", "the relay could not complete the request; retry later");
}
