import { run } from "probot";
import { createWebhookProxy } from "probot/lib/helpers/webhook-proxy";
import { startTimeoutSweeps } from "./timeouts/timeout-sweeps";
import { EnvError, loadEnv } from "./config/env";
import { RelayConfigError } from "./config/parse-relay-config";
import { createProbot } from "./create-probot";
import { createRelay } from "./create-relay";
import appFromEnvironment from "./index";
import { loadRelayConfig } from "./load-relay-config";
import { createServer, WEBHOOK_PATH } from "./server/create-server";

/**
 * `npm start`: validate the environment, load the relay config, then serve webhooks and `/relay`.
 * Without app credentials it hands over to Probot's setup flow, as Probot apps do.
 */
async function main(): Promise<void> {
  const env = loadEnv(process.env);
  const created = createProbot(env, process.env);
  if (!created) {
    // Probot loads .env inside run() and then reads it; a copied .env.example's blank HOST= would
    // reach its setup flow as an empty host (http://:3000). Read lazily so .env is seen, blanks unset.
    const nonBlank = new Proxy(process.env, { get: (vars, name) => (Reflect.get(vars, name) === "" ? undefined : Reflect.get(vars, name)) });
    await run(appFromEnvironment, { env: nonBlank });
    return;
  }
  const { probot, log, metrics } = created;
  const relay = createRelay(probot, env, { metrics });

  await loadRelayConfig(relay);

  const server = createServer(relay, probot, log).listen(env.port, env.host ?? "::", () => {
    log.info(`ci-relay listening on http://${env.host ?? "localhost"}:${env.port} (store: ${relay.store.kind})`);
  });
  const proxy = env.webhookProxyUrl
    ? await createWebhookProxy({ url: env.webhookProxyUrl, port: env.port, path: WEBHOOK_PATH, logger: log })
    : undefined;
  relay.runner.start(env.outboxDrainIntervalSeconds * 1000);
  const stopTimeoutSweep = startTimeoutSweeps(relay, env.outboxDrainIntervalSeconds * 1000);

  const shutdown = (signal: string) => {
    log.info(`${signal}: shutting down`);
    proxy?.close();
    stopTimeoutSweep();
    server.close();
    relay.config.close();
    void relay.runner
      .stop()
      .then(() => relay.store.close())
      .finally(() => process.exit(0));
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
