import { Probot, run } from "probot";
import { readEnvOptions } from "probot/lib/bin/read-env-options";
import { getLog, type GetLogOptions } from "probot/lib/helpers/get-log";
import { createWebhookProxy } from "probot/lib/helpers/webhook-proxy";
import { startTimeoutSweep } from "./checks/sweep-timeouts";
import { EnvError, loadEnv, requireTokenSecretFor } from "./config/env";
import { RelayConfigError } from "./config/parse-relay-config";
import { createRelay } from "./create-relay";
import appFromEnvironment from "./index";
import { relayOctokit } from "./github/relay-octokit";
import { createMetrics } from "./metrics/metrics";
import { requireRedisForQueue } from "./queue/require-redis-for-queue";
import { createServer, WEBHOOK_PATH } from "./server/create-server";
import { redisThrottleConfig } from "./server/redis-throttle-config";

/**
 * `npm start`: validate the environment, load the relay config, then serve webhooks and `/relay`.
 * Without app credentials it hands over to Probot's setup flow, as Probot apps do.
 */
async function main(): Promise<void> {
  const env = loadEnv(process.env);
  const probotEnv = readEnvOptions(process.env);
  if (!probotEnv.appId || !probotEnv.privateKey) {
    await run(appFromEnvironment);
    return;
  }
  // pino accepts "silent"; Probot's type for the level predates it.
  const log = getLog({ level: env.logLevel as GetLogOptions["level"], logFormat: probotEnv.logFormat, logLevelInString: probotEnv.logLevelInString });
  const metrics = createMetrics();
  const probot = new Probot({
    appId: probotEnv.appId,
    privateKey: probotEnv.privateKey,
    secret: probotEnv.secret,
    baseUrl: probotEnv.baseUrl,
    // Probot logs a failed delivery with its payload and signature attached to the error.
    log: log.child({ name: "probot" }, { redact: { paths: ["err.event.payload", "err.event.signature", "event.payload", "event.signature"], censor: "[redacted]" } }),
    Octokit: relayOctokit(metrics, log.child({ name: "github" })),
    ...(env.redisUrl ? { redisConfig: redisThrottleConfig(env.redisUrl, env.redisPrefix) } : {}),
  });
  const relay = createRelay(probot, env, { metrics });

  await relay.config.start();
  const config = relay.config.current();
  if (config) requireTokenSecretFor(config, env);
  if (config) requireRedisForQueue(config, relay.store);

  const server = createServer(relay, probot, log).listen(env.port, env.host ?? "::", () => {
    log.info(`ci-relay listening on http://${env.host ?? "localhost"}:${env.port} (store: ${relay.store.kind})`);
  });
  const proxy = env.webhookProxyUrl
    ? await createWebhookProxy({ url: env.webhookProxyUrl, port: env.port, path: WEBHOOK_PATH, logger: log })
    : undefined;
  relay.runner.start(env.outboxDrainIntervalSeconds * 1000);
  const stopTimeoutSweep = startTimeoutSweep(relay, env.outboxDrainIntervalSeconds * 1000);

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
