import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import express from "express";
import serverless from "serverless-http";
import type { Relay } from "../create-relay";
import { finalHandlers } from "../http/final-handlers";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { relayRouter } from "../relay-router";
import { drainDeadline } from "./drain-deadline";
import { lambdaRelay } from "./lambda-relay";

/** Callbacks and broker writes queue check-run and HUD work; it is sent within this, or by the scheduled function. */
const DRAIN_BUDGET_MS = 2_000;

let served: { relay: Relay; serve: serverless.Handler } | null = null;

/**
 * Every `/relay/...` route on Lambda (API Gateway HTTP API), from the same router the server mounts,
 * through serverless-http. Requests that may have queued outbox work (anything but GET) send it
 * before answering, within a short budget.
 */
export async function handler(event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> {
  let relay: Relay;
  try {
    relay = await lambdaRelay();
  } catch (error) {
    console.error(`ci-relay not ready: ${error instanceof Error ? error.message : String(error)}`);
    const { status, body } = failureBody(new RelayError("store-unavailable", "relay not ready; retry later"), randomUUID());
    return { statusCode: status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  }
  if (served?.relay !== relay) {
    const app = express()
      .disable("x-powered-by")
      .use("/relay", relayRouter(relay))
      .use(finalHandlers(relay.log));
    served = { relay, serve: serverless(app) };
  }
  const result = (await served.serve(event, context ?? {})) as APIGatewayProxyStructuredResultV2;
  if (event.requestContext.http.method !== "GET") {
    await relay.runner
      .drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis()))
      .catch((error: unknown) => relay.log.warn({ err: error }, "outbox drain after request failed; the scheduled function retries"));
  }
  return result;
}
