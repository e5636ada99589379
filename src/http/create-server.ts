/**
 * http/ owns the HTTP edge the routes stand on: the server and its shut-down, JSON routes and answers,
 * body limits, the final JSON handlers, log redaction, and the webhook intake (webhook-intake/). The
 * `/relay` route table is src/relay-router.ts; each route lives with its domain.
 */
import express, { type Express, type Router } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import type { Probot } from "probot";
import { finalHandlers } from "./final-handlers";
import { redactHeaders } from "./redact-headers";
import { webhookRoute } from "./webhook-intake/webhook-route";

export const WEBHOOK_PATH = "/api/github/webhooks";

/**
 * The long-lived server: the webhook endpoint (checked, then Probot's webhooks), the `/relay` routes
 * beside it, and a JSON answer for everything else. Built here rather than with Probot's Server so
 * every delivery is checked before Probot sees it, every answer is a SPEC §5 body, and request logs
 * redact credentials. The caller has loaded the app function into `probot` and built the `/relay`
 * router: both are the composition root's (main.ts), not the HTTP layer's.
 */
export function createServer(probot: Probot, relayRoutes: Router, log: Logger): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(
    pinoHttp({
      logger: log.child({ name: "http" }),
      serializers: {
        req: (req: { headers: Record<string, unknown> }) => ({ ...req, headers: redactHeaders(req.headers) }),
      },
      // Express rewrites req.url inside a mounted router; originalUrl is what the client asked for.
      customSuccessMessage: (req, res) =>
        `${req.method} ${(req as { originalUrl?: string }).originalUrl ?? req.url} ${res.statusCode}`,
      genReqId: (req) => (req.headers["x-github-delivery"] as string | undefined) ?? crypto.randomUUID(),
    }),
  );
  app.post(WEBHOOK_PATH, webhookRoute(probot, log.child({ name: "webhooks" })));
  app.use("/relay", relayRoutes);
  app.use(finalHandlers(log.child({ name: "http" })));
  return app;
}
