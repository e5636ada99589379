import type { Logger } from "pino";
import { Probot } from "probot";
import { readEnvOptions } from "probot/lib/bin/read-env-options";
import { getLog, type GetLogOptions } from "probot/lib/helpers/get-log";
import type { EnvVars, RelayEnv } from "./config/env";
import { GitHubCalls } from "./github/github-calls";
import { relayOctokit } from "./github/relay-octokit";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { redisThrottleConfig } from "./server/redis-throttle-config";

export interface RelayProbot {
  probot: Probot;
  log: Logger;
  metrics: Metrics;
  /** fed by every GitHub call this Probot's Octokits make; hand it to `createRelay` */
  githubCalls: GitHubCalls;
}

/**
 * The Probot both deployments run (server and Lambda): redacted logs, the relay's Octokit, and
 * GitHub rate limits shared through Redis when REDIS_URL is set, so any number of instances
 * together keep one write pace per installation. Null without app credentials.
 */
export function createProbot(env: RelayEnv, vars: EnvVars): RelayProbot | null {
  const probotEnv = readEnvOptions(vars as NodeJS.ProcessEnv);
  if (!probotEnv.appId || !probotEnv.privateKey) return null;
  // pino accepts "silent"; Probot's type for the level predates it.
  const log = getLog({ level: env.logLevel as GetLogOptions["level"], logFormat: probotEnv.logFormat, logLevelInString: probotEnv.logLevelInString });
  const metrics = createMetrics();
  const githubCalls = new GitHubCalls(metrics);
  const probot = new Probot({
    appId: probotEnv.appId,
    privateKey: probotEnv.privateKey,
    secret: probotEnv.secret,
    baseUrl: probotEnv.baseUrl,
    // Probot logs a failed delivery with its payload and signature attached to the error.
    log: log.child({ name: "probot" }, { redact: { paths: ["err.event.payload", "err.event.signature", "event.payload", "event.signature"], censor: "[redacted]" } }),
    Octokit: relayOctokit(metrics, log.child({ name: "github" }), githubCalls),
    ...(env.redisUrl ? { redisConfig: redisThrottleConfig(env.redisUrl, env.redisPrefix) } : {}),
  });
  return { probot, log, metrics, githubCalls };
}
