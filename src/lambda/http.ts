import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import express from "express";
import serverless from "serverless-http";
import type { Relay } from "../create-relay";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { finalHandlers } from "../http/final-handlers";
import { relayRouter } from "../relay-router";
import { apiGatewayAnswer } from "./api-gateway";
import { drainDeadline } from "./drain-deadline";
import { readyLambdaRelay } from "./lambda-relay";

/** Callbacks and broker writes queue check-run and HUD work; it is sent within this, or by the scheduled function. */
const DRAIN_BUDGET_MS = 2_000;

let served: { relay: Relay; serve: serverless.Handler } | null = null;

/**
 * Every `/relay/...` route on Lambda (API Gateway HTTP API), from the same router the server mounts,
 * through serverless-http. Requests that may have queued outbox work (anything but GET) send it
 * before answering, within a short budget.
 */
export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  const relay = await readyLambdaRelay("retry later");
  if (relay instanceof RelayError) return apiGatewayAnswer(failureBody(relay, randomUUID()));
  if (served?.relay !== relay) {
    const app = express().disable("x-powered-by").use("/relay", relayRouter(relay)).use(finalHandlers(relay.log));
    served = { relay, serve: serverless(app) };
  }
  const result = (await served.serve(event, context ?? {})) as APIGatewayProxyStructuredResultV2;
  if (event.requestContext.http.method !== "GET") {
    await relay.runner
      .drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis()))
      .catch((error: unknown) =>
        relay.log.warn({ err: error }, "outbox drain after request failed; the scheduled function retries"),
      );
  }
  return result;
}
