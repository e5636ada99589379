import type { ApplicationFunction, Probot } from "probot";
import { loadEnv } from "./config/env";
import { createRelay, type Relay } from "./create-relay";
import { relayRouter } from "./routes/relay-router";
import { registerWebhooks } from "./webhooks/register-webhooks";

/**
 * The Probot app function. It wires webhook handlers and, where the host offers a router (Probot's
 * server), the `/relay` routes; under the Lambda adapter or `probot receive` there is no router and
 * the webhook handlers alone are loaded.
 */
export function relayApp(relay: Relay): ApplicationFunction {
  return (app: Probot, { getRouter } = {}) => {
    registerWebhooks(app, relay);
    if (getRouter) getRouter("/relay").use(relayRouter(relay));
  };
}

const appFromEnvironment: ApplicationFunction = (app, options) => relayApp(createRelay(app, loadEnv(process.env)))(app, options);
export default appFromEnvironment;
