import type { Logger } from "pino";
import { Probot } from "probot";
import { readEnvOptions } from "probot/lib/bin/read-env-options";
import { getLog, type GetLogOptions } from "probot/lib/helpers/get-log";
import type { EnvVars, RelayEnv } from "./config/env";
import { relayOctokit } from "./github/relay-octokit";
import { createMetrics, type Metrics } from "./metrics/metrics";

export interface RelayProbot {
  probot: Probot;
  log: Logger;
  metrics: Metrics;
}

/**
 * The Probot both deployments run (server and Lambda): redacted logs and the relay's Octokit. No
 * `redisConfig`: Bottleneck's Redis datastore never recovered from losing its keys (issue 9), so
 * write pacing across instances is the relay's own (`WritePacer`). Null without app credentials.
 */
export function createProbot(env: RelayEnv, vars: EnvVars): RelayProbot | null {
  const probotEnv = readEnvOptions(vars as NodeJS.ProcessEnv);
  if (!probotEnv.appId || !probotEnv.privateKey) return null;
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
  });
  return { probot, log, metrics };
}
