import type { ApplicationFunction, Probot } from "probot";
import type { Relay } from "./create-relay";
import { registerWebhooks } from "./webhooks/register-webhooks";

/**
 * The Probot app function: the relay's webhook handlers. The relay's own server (src/http) and
 * Lambda handlers load it and mount the `/relay` routes themselves. There is deliberately no default
 * export for `probot run`: Probot's stock server has none of the relay's webhook checks, final JSON
 * handlers or log redaction.
 */
export function relayApp(relay: Relay): ApplicationFunction {
  return (app: Probot) => registerWebhooks(app, relay);
}
