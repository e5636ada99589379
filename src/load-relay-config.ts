import { requireTokenSecretFor } from "./config/env";
import type { Relay } from "./create-relay";
import { requireRedisForQueue } from "./queue/require-redis-for-queue";

/**
 * Loads the relay config at start (a bad local file stops the process) and checks what it asks of
 * the environment: a token secret for L2+ downstreams, Redis for queue downstreams. Shared by the
 * server and the Lambda handlers.
 */
export async function loadRelayConfig(relay: Pick<Relay, "config" | "env" | "store">): Promise<void> {
  await relay.config.start();
  const config = relay.config.current();
  if (!config) return; // a github: source still loading: webhooks answer 503 until it is
  requireTokenSecretFor(config, relay.env);
  requireRedisForQueue(config, relay.store);
}
