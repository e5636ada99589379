/**
 * http/ owns the HTTP edge the routes stand on: the server and its shut-down, JSON routes and answers,
 * body limits, the final JSON handlers, the request log and its redaction, and the webhook intake
 * (webhook-intake/). The `/relay` route table is src/relay-router.ts; each route lives with its domain.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import express, { type Router } from "express";
import type { Logger } from "pino";
import type { Probot } from "probot";
import { finalHandlers } from "./final-handlers";
import { logRequests } from "./log-requests";
import { webhookRoute } from "./webhook-intake/webhook-route";

export const WEBHOOK_PATH = "/api/github/webhooks";

/**
 * The long-lived server (not yet listening): the webhook endpoint (checked, then Probot's webhooks),
 * the `/relay` routes beside it, and a JSON answer for everything else, each request logged with its
 * credentials redacted. Built here rather than with Probot's Server so every delivery is checked
 * before Probot sees it and every answer is a SPEC §5 body. The webhook, nearly all of the traffic, is
 * served before Express: one route needs none of its router. The caller has loaded the app function
 * into `probot` and built the `/relay` router: both are the composition root's (main.ts), not the
 * HTTP layer's.
 */
export function createServer(probot: Probot, relayRoutes: Router, log: Logger): Server {
  const httpLog = log.child({ name: "http" });
  const app = express().disable("x-powered-by").use("/relay", relayRoutes).use(finalHandlers(httpLog));
  const logRequest = logRequests(httpLog);
  const webhook = webhookRoute(probot, log.child({ name: "webhooks" }));
  return createHttpServer((request, response) => {
    logRequest(request, response);
    // sendJson throwing (a socket gone mid-answer) must not become an unhandled rejection.
    if (isWebhookPost(request)) void webhook(request, response).catch(() => response.destroy());
    else app(request, response);
  });
}

/**
 * The path as Express matched it when the webhook was an Express route (not case-sensitive, one
 * trailing slash allowed), whatever the query: an App whose webhook URL ends in "/" keeps working.
 */
function isWebhookPost({ method, url = "" }: IncomingMessage): boolean {
  if (method !== "POST") return false;
  const query = url.indexOf("?");
  const path = (query === -1 ? url : url.slice(0, query)).toLowerCase();
  return path === WEBHOOK_PATH || path === `${WEBHOOK_PATH}/`;
}
