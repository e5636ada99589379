import express, { type Express } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { createNodeMiddleware } from "@octokit/webhooks";
import type { Probot } from "probot";
import type { Relay } from "../create-relay";
import { relayApp } from "../index";
import { relayRouter } from "../routes/relay-router";
import { redactHeaders } from "./redact-headers";
import { webhookGuard } from "./webhook-guard";

export const WEBHOOK_PATH = "/api/github/webhooks";

/**
 * The long-lived server: Probot's webhook endpoint behind a guard, and the `/relay` routes beside
 * it. Built here rather than with Probot's Server so the guard can run before Probot reads the body
 * and so request logs redact credentials.
 */
export function createServer(relay: Relay, probot: Probot, log: Logger): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(
    pinoHttp({
      logger: log.child({ name: "http" }),
      serializers: { req: (req: { headers: Record<string, unknown> }) => ({ ...req, headers: redactHeaders(req.headers) }) },
      // Express rewrites req.url inside a mounted router; originalUrl is what the client asked for.
      customSuccessMessage: (req, res) => `${req.method} ${(req as { originalUrl?: string }).originalUrl ?? req.url} ${res.statusCode}`,
      genReqId: (req) => (req.headers["x-github-delivery"] as string | undefined) ?? crypto.randomUUID(),
    }),
  );
  app.post(WEBHOOK_PATH, webhookGuard);
  void probot.load(relayApp(relay));
  // Probot's own error handler logs failed deliveries (redacted); the middleware's default logger
  // would print them to the console again, payload and signature included.
  const webhookLog = log.child({ name: "webhooks" });
  app.use(
    createNodeMiddleware(probot.webhooks, {
      path: WEBHOOK_PATH,
      log: {
        debug: (message: string) => webhookLog.debug(message),
        info: (message: string) => webhookLog.info(message),
        warn: (message: string) => webhookLog.warn(message),
        error: () => undefined,
      },
    }),
  );
  app.use("/relay", relayRouter(relay));
  return app;
}
