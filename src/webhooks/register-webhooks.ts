/**
 * webhooks/ owns the Probot handlers: which GitHub events the relay listens to, dropping its own
 * events (app slug), and handing each event to its domain (relay/ for pushes and PRs,
 * register-check-webhooks.ts for labels, re-runs and workflow_run).
 */
import type { Probot } from "probot";
import type { ConfigSource } from "../config/config-source";
import { explainOwnEvent, relayDelivery, type RelayDeliveryDeps } from "../relay/relay-delivery";
import { registerCheckWebhooks, type CheckWebhookDeps } from "./register-check-webhooks";
import { AppSlug } from "./app-slug";
import { isOwnEvent } from "./is-own-event";
import { payloadText } from "./verified-text";

/** An error the webhook middleware answers with its `status` instead of 500. */
function httpError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

/** Webhooks are relayed (store, outbox), counted, and answered from the cached config. */
export interface WebhookDeps extends RelayDeliveryDeps, CheckWebhookDeps {
  probot: Probot;
  env: { appId?: number };
  config: ConfigSource;
}

/**
 * SPEC §3 webhook handling. Probot has verified the signature before any of this runs; a handler
 * resolves only once its work is stored durably, so GitHub's 200 means "accepted, will not be lost".
 */
export function registerWebhooks(app: Probot, relay: WebhookDeps): void {
  const appSlug = new AppSlug({ probot: relay.probot, store: relay.store, log: relay.log, appId: relay.env.appId });
  // Learnt before the first webhook needs it, where possible; a webhook never waits for GitHub here.
  void appSlug.current();
  const ownEvent = async (payload: unknown) => isOwnEvent(payload, await appSlug.current(payload));
  const currentConfig = async () => {
    // Never a GitHub read here: a slow or failing source would hold the answer past GitHub's 10 s.
    const config = relay.config.currentAndRefreshIfDue();
    if (!config) throw httpError(503, "relay config not loaded yet");
    return config;
  };
  registerCheckWebhooks(app, relay, { config: currentConfig, isOwnEvent: ownEvent });

  app.on(["pull_request", "push"], async (context) => {
    const started = Date.now();
    const payload = context.payload;
    if (await ownEvent(payload)) {
      relay.metrics.deliveries.inc({ event: context.name, outcome: "own-event" });
      await explainOwnEvent(relay, relay.config.currentAndRefreshIfDue(), {
        id: context.id,
        name: context.name,
        payload,
      });
      return;
    }
    if (
      context.name === "push" &&
      relay.config.isConfigPush(context.payload as Parameters<ConfigSource["isConfigPush"]>[0])
    ) {
      // Not awaited: the answer never waits on GitHub. Reads asked for meanwhile share this one, and a
      // failed read keeps the last good config (and is logged) like any other.
      void relay.config.refresh();
    }
    const config = await currentConfig();

    let outcome: string;
    try {
      outcome = await relayDelivery(relay, config, {
        id: context.id,
        name: context.name,
        payload,
        text: payloadText(payload),
      });
    } catch (error) {
      relay.log.error({ err: error, deliveryId: context.id }, "could not store the delivery");
      throw httpError(503, "state store unavailable; redeliver later");
    }
    relay.metrics.deliveries.inc({ event: context.name, outcome });
    if (outcome === "in-flight")
      throw httpError(503, "another copy of this delivery is still being stored; redeliver if it does not complete");
    relay.metrics.webhookLatency.observe((Date.now() - started) / 1000);
    if (outcome === "relayed") relay.runner.kick();
    else relay.log.debug({ deliveryId: context.id, outcome }, "delivery not relayed");
  });
}
