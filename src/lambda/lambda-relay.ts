/**
 * lambda/ owns the AWS Lambda entry points (webhook.ts, http.ts, scheduled.ts) and what they share:
 * this container's relay, API Gateway's request and answer, and how long a handler drains the outbox.
 */
import { loadEnv, type EnvVars } from "../config/env";
import { loadRelayConfig } from "../load-relay-config";
import { createProbot } from "../create-probot";
import { createRelay, type Relay } from "../create-relay";
import { RelayError } from "../errors/failure-kinds";

let starting: Promise<Relay> | null = null;

/**
 * The Relay of this Lambda container, built on its first invocation and kept while the container
 * lives. Only a cache: every fact lives in Redis, so a cold container does what a warm one does. A
 * start that fails (bad variable, unreadable local config) is tried again by the next invocation.
 */
export function lambdaRelay(): Promise<Relay> {
  starting ??= startRelay(process.env).catch((error: unknown) => {
    starting = null;
    throw error;
  });
  return starting;
}

/**
 * The container's relay or, when it cannot start, the SPEC §5 503 that asks the caller to come back
 * (`next`: "retry later", "redeliver later"). Why it could not start goes to the function's log only.
 */
export function readyLambdaRelay(next: string): Promise<Relay | RelayError> {
  return lambdaRelay().catch((error: unknown) => {
    console.error(`ci-relay not ready: ${error instanceof Error ? error.message : String(error)}`);
    return new RelayError("store-unavailable", `relay not ready; ${next}`);
  });
}

/** Releases the container's connections. Lambda freezes containers and never calls this; tests do. */
export async function closeLambdaRelay(): Promise<void> {
  const relay = await starting?.catch(() => null);
  starting = null;
  if (relay) await stop(relay);
}

async function startRelay(vars: EnvVars): Promise<Relay> {
  const env = loadEnv(vars);
  // No setup flow on Lambda (no browser session to register the app from): missing credentials stop it.
  const created = createProbot(env, vars);
  const relay = createRelay(created.probot, env, {
    metrics: created.metrics,
    githubCalls: created.githubCalls,
    background: false,
  });
  try {
    await loadRelayConfig(relay);
    return relay;
  } catch (error) {
    await stop(relay);
    throw error;
  }
}

async function stop(relay: Relay): Promise<void> {
  relay.config.close();
  await relay.store.close();
}
