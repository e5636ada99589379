import type { Logger } from "pino";
import { Probot } from "probot";
import { readEnvOptions } from "probot/lib/bin/read-env-options";
import { getLog, type GetLogOptions } from "probot/lib/helpers/get-log";
import { EnvError, requireAppCredentials, type EnvProblem, type EnvVars, type RelayEnv } from "./config/env";
import { GitHubCalls } from "./github/github-calls";
import { relayOctokit } from "./github/relay-octokit";
import { createMetrics, type Metrics } from "./metrics/metrics";

/**
 * What never reaches a log line, on every logger the relay derives from Probot's: Probot attaches a
 * failed delivery's payload and signature to its errors, and ioredis attaches the failed command's
 * arguments (a stored webhook body, a record) to its own.
 */
export const LOG_REDACTION = {
  paths: ["err.event.payload", "err.event.signature", "event.payload", "event.signature", "err.command.args", "err.previousErrors[*].command.args"],
  censor: "[redacted]",
};

export interface RelayProbot {
  probot: Probot;
  log: Logger;
  metrics: Metrics;
  /** fed by every GitHub call this Probot's Octokits make; hand it to `createRelay` */
  githubCalls: GitHubCalls;
}

/**
 * The Probot both deployments run (server and Lambda): redacted logs and the relay's Octokit. No
 * `redisConfig`: Bottleneck's Redis datastore never recovered from losing its keys (issue 9), so
 * write pacing across instances is the relay's own (`WritePacer`). Throws an EnvError, one line per
 * variable, unless all the App's credentials are there and the key can be read.
 */
export function createProbot(env: RelayEnv, vars: EnvVars): RelayProbot {
  const probotEnv = probotEnvOptions(vars);
  requireAppCredentials(env, probotEnv.privateKey !== undefined);
  const log = relayLog(env, vars);
  const metrics = createMetrics();
  const githubCalls = new GitHubCalls(metrics);
  const probot = new Probot({
    appId: env.appId,
    privateKey: probotEnv.privateKey,
    secret: probotEnv.secret,
    baseUrl: probotEnv.baseUrl,
    // Probot logs a failed delivery with its payload and signature attached to the error.
    log: log.child({ name: "probot" }, { redact: LOG_REDACTION }),
    Octokit: relayOctokit(metrics, log.child({ name: "github" }), githubCalls),
  });
  return { probot, log, metrics, githubCalls };
}

/** The relay's logger, as Probot would make it: JSON in production or with LOG_FORMAT=json, else pretty. */
export function relayLog(env: RelayEnv, vars: EnvVars): Logger {
  return getLog({
    // pino accepts "silent"; Probot's type for the level predates it.
    level: env.logLevel as GetLogOptions["level"],
    logFormat: env.logFormat ?? (vars.NODE_ENV === "production" ? "json" : "pretty"),
    logLevelInString: vars.LOG_LEVEL_IN_STRING === "true",
  });
}

/**
 * Probot's reading of the environment, which finds the private key. Its errors name `env.PRIVATE_KEY`
 * or print the path in its own words; this names the variable, in one line, never the key.
 */
function probotEnvOptions(vars: EnvVars): ReturnType<typeof readEnvOptions> {
  try {
    return readEnvOptions(vars as NodeJS.ProcessEnv);
  } catch {
    throw new EnvError([keyProblem(vars)]);
  }
}

function keyProblem(vars: EnvVars): EnvProblem {
  if (vars.PRIVATE_KEY?.trim()) return { variable: "PRIVATE_KEY", message: "is not a PEM private key (nor base64 of one)" };
  if (vars.PRIVATE_KEY_PATH?.trim()) return { variable: "PRIVATE_KEY_PATH", message: `no readable key file at ${vars.PRIVATE_KEY_PATH}` };
  return { variable: "PRIVATE_KEY_PATH", message: "several .pem files in the working directory: name one" };
}
