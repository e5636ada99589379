import { Router } from "express";
import { githubOperationRoute } from "./broker/github-operation-route";
import { prPreflightRoute } from "./broker/pr-preflight-route";
import { callbackRoute } from "./callback/callback-route";
import type { Relay } from "./create-relay";
import { dashboardRoute, downstreamsRoute, runsRoute } from "./dashboard/dashboard-routes";
import { deliveriesRoute, deliveryPageRoute, deliveryRoute } from "./dashboard/delivery-routes";
import { healthRoute } from "./health/health-route";
import { metricsRoute } from "./metrics/metrics-route";

/**
 * Every `/relay/...` route, mounted by the server beside Probot's webhook path and served on Lambda
 * through serverless-http. No app-wide body parser: each route reads its own body with its own limit.
 * The table sits here, beside the composition root, because it names every domain's route: inside
 * http/, which the routes import, http/ and each domain would import each other.
 */
export function relayRouter(relay: Relay): Router {
  const router = Router();
  router.get("/health", healthRoute(relay));
  router.get("/metrics", metricsRoute(relay));
  router.post("/v1/github/gh", githubOperationRoute(relay));
  router.post("/v1/github/pr-preflight", prPreflightRoute(relay));
  router.post("/v1/callback", callbackRoute(relay));
  router.get("/v1/runs", runsRoute(relay));
  router.get("/v1/deliveries", deliveriesRoute(relay));
  router.get("/v1/deliveries/:id", deliveryRoute(relay));
  router.get("/deliveries/:id", deliveryPageRoute(relay));
  router.get("/v1/downstreams", downstreamsRoute(relay));
  router.get("/", dashboardRoute(relay));
  return router;
}
