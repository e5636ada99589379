import { startTimeoutSweeps } from "./timeouts/timeout-sweeps";
import { EnvError, lacksAllAppCredentials, loadEnv } from "./config/env";
import { loadDotEnv } from "./config/load-dot-env";
import { RelayConfigError } from "./config/parse-relay-config";
import { createProbot, relayLog } from "./create-probot";
import { createRelay } from "./create-relay";
import { relayApp } from "./index";
import { relayRouter } from "./relay-router";
import { loadRelayConfig } from "./load-relay-config";
import { startRedeliveryChecks } from "./redelivery/redeliver-missed";
import { runSetupFlow } from "./run-setup-flow";
import { createServer, WEBHOOK_PATH } from "./http/create-server";
import { shutDown } from "./http/shut-down";
import { startWebhookProxy } from "./start-webhook-proxy";

/** SIGTERM must end the process within 10 s (orchestrators SIGKILL after their grace). */
const FORCED_EXIT_MS = 9_000;

/**
 * `npm start`: read `.env`, validate the settings, load the relay config, then serve webhooks and
 * `/relay`. With no App credential anywhere it opens Probot's setup flow instead, as Probot apps do;
 * with any, it is the relay or stops with one line per missing or bad variable.
 */
async function main(): Promise<void> {
  loadDotEnv(process.cwd());
  const env = loadEnv(process.env);
  if (lacksAllAppCredentials(env)) {
    await runSetupFlow(env, relayLog(env, process.env), process.env.NODE_ENV === "production");
    return;
  }
  const { probot, log, metrics, githubCalls } = createProbot(env, process.env);
  const relay = createRelay(probot, env, { metrics, githubCalls });

  await loadRelayConfig(relay);

  void probot.load(relayApp(relay));
  const server = createServer(probot, relayRouter(relay), log).listen(env.port, env.host ?? "::", () => {
    log.info(`ci-relay listening on http://${env.host ?? "localhost"}:${env.port} (store: ${relay.store.kind})`);
  });
  const proxy = env.webhookProxyUrl
    ? await startWebhookProxy({ url: env.webhookProxyUrl, port: env.port, path: WEBHOOK_PATH, log })
    : undefined;
  relay.runner.start(env.outboxDrainIntervalSeconds * 1000);
  const stopTimeoutSweeps = startTimeoutSweeps(relay, env.outboxDrainIntervalSeconds * 1000);
  const stopRedeliveryChecks = env.redeliverMissed
    ? startRedeliveryChecks(relay, env.outboxDrainIntervalSeconds * 1000)
    : async () => undefined;

  const shutdown = (signal: string) => {
    const started = Date.now();
    log.info(`${signal}: shutting down`);
    // Bounded by construction (see shutDown); this is the backstop should anything still hang.
    setTimeout(() => {
      log.error("shutdown did not finish in time; exiting anyway");
      process.exit(1);
    }, FORCED_EXIT_MS).unref();
    shutDown({ relay, server, proxy, stopLoops: [stopTimeoutSweeps, stopRedeliveryChecks] }).then(
      () => {
        log.info({ ms: Date.now() - started }, "shut down");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  // One line naming what is wrong; configuration errors carry no secret values by construction.
  if (error instanceof EnvError || error instanceof RelayConfigError) console.error(error.message);
  else console.error(`ci-relay failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
