/**
 * health/ owns `/relay/health`: readiness and `degraded` decided from the store, config, GitHub and
 * outbox (decide-health.ts, pure), credentials named by reference only, and the relay's version.
 */
import { OPERATION_NAMES } from "../broker/operations";
import type { Logger } from "pino";
import type { ConfigSource } from "../config/config-source";
import type { RelayEnv } from "../config/env";
import type { GitHubCalls } from "../github/github-calls";
import type { Outbox } from "../outbox/outbox";
import type { Store } from "../store/store";
import { decideHealth } from "./decide-health";
import { jsonRoute } from "../http/json-route";
import { RELAY_VERSION } from "./version";

/** Health reads the store, the outbox and the GitHub call record, and names what is configured. */
export interface HealthDeps {
  env: RelayEnv;
  log: Logger;
  store: Store;
  config: Pick<ConfigSource, "describe">;
  githubCalls: Pick<GitHubCalls, "state">;
  outbox: Outbox;
  now: () => number;
}

/** Health must answer even when Redis does not: each store read gets this long, then counts as failed. */
const STORE_TIMEOUT_MS = 1_000;

/** `read`, or `fallback` if it fails or takes longer than STORE_TIMEOUT_MS. */
async function bounded<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), STORE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([read().catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * SPEC §6 `GET /relay/health`: liveness and redacted readiness, no auth. 200 while the relay can
 * accept work, 503 with the same body when it cannot; `degraded` says what is wrong meanwhile.
 * Credentials are named by reference only (`env:PRIVATE_KEY`), never by value.
 */
export function healthRoute(relay: HealthDeps) {
  return jsonRoute(relay.log, async () => {
    const now = relay.now();
    const config = relay.config.describe();
    const storeOk = await bounded(() => relay.store.ping(), false);
    const [outbox, shared] = await Promise.all([
      storeOk
        ? bounded(
            async () => ({
              depth: await relay.outbox.depth(),
              oldestDueSeconds: await relay.outbox.oldestDueSeconds(now),
            }),
            null,
          )
        : null,
      storeOk ? bounded(() => relay.githubCalls.state(), null) : null,
    ]);
    const github = shared ?? (await relay.githubCalls.state(false));
    const { ok, degraded } = decideHealth({
      storeOk,
      configLoaded: config.loaded,
      failingSince: github.failingSince,
      oldestDueSeconds: outbox?.oldestDueSeconds ?? null,
      now,
    });
    return {
      status: ok ? 200 : 503,
      body: {
        ok,
        service: "ci-relay",
        version: RELAY_VERSION,
        github: {
          configured: relay.env.appId !== undefined && Boolean(relay.env.privateKey ?? relay.env.privateKeyPath),
          credentialRef: relay.env.privateKeyPath ? "env:PRIVATE_KEY_PATH" : "env:PRIVATE_KEY",
          valuesPrinted: false,
          lastOkAt: github.lastOkAt,
          failingSince: github.failingSince,
        },
        store: { kind: relay.store.kind, ok: storeOk },
        config: { loaded: config.loaded, source: config.location },
        outbox: { depth: outbox?.depth ?? null, oldestDueSeconds: outbox?.oldestDueSeconds ?? null },
        degraded,
        capabilities: [
          "relay.dispatch",
          "relay.queue",
          "relay.callback",
          "relay.check-runs",
          ...(relay.env.hudUrl ? ["relay.hud"] : []),
          ...(relay.env.redeliverMissed ? ["relay.redeliver-missed"] : []),
          ...OPERATION_NAMES,
          "github.pr.preflight",
        ],
      },
    };
  });
}
