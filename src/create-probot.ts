import { getTransformStream } from "@probot/pino";
import pino, { type Logger } from "pino";
import { Probot } from "probot";
import { githubApiUrl, readAppKey } from "./config/app-credentials";
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
  paths: [
    "err.event.payload",
    "err.event.signature",
    "event.payload",
    "event.signature",
    "err.command.args",
    "err.previousErrors[*].command.args",
  ],
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
  const privateKey = appKey(vars);
  requireAppCredentials(env, privateKey !== undefined);
  const log = relayLog(env, vars);
  const metrics = createMetrics();
  const githubCalls = new GitHubCalls(metrics);
  const probot = new Probot({
    appId: env.appId,
    privateKey,
    secret: env.webhookSecret,
    baseUrl: githubApiUrl(env),
    // Probot logs a failed delivery with its payload and signature attached to the error.
    log: log.child({ name: "probot" }, { redact: LOG_REDACTION }),
    Octokit: relayOctokit(metrics, log.child({ name: "github" }), githubCalls),
  });
  return { probot, log, metrics, githubCalls };
}

/**
 * The relay's logger, as Probot makes its own (with the transform of Probot's log package): JSON in
 * production or with LOG_FORMAT=json, else pretty.
 */
export function relayLog(env: RelayEnv, vars: EnvVars): Logger {
  const transform = getTransformStream({
    logFormat: env.logFormat ?? (vars.NODE_ENV === "production" ? "json" : "pretty"),
    logLevelInString: vars.LOG_LEVEL_IN_STRING === "true",
  });
  // SonicBoom (fd 1, as Probot writes it) is a writable stream; its types just do not say so.
  transform.pipe(pino.destination(1) as unknown as NodeJS.WritableStream);
  return pino({ level: env.logLevel, name: "probot", messageKey: "msg" }, transform);
}

/**
 * The private key, found as Probot finds it. Its errors name `env.PRIVATE_KEY` or print the path in
 * their own words; this names the variable, in one line, never the key.
 */
function appKey(vars: EnvVars): string | undefined {
  try {
    return readAppKey(vars);
  } catch {
    throw new EnvError([keyProblem(vars)]);
  }
}

function keyProblem(vars: EnvVars): EnvProblem {
  if (vars.PRIVATE_KEY?.trim())
    return { variable: "PRIVATE_KEY", message: "is not a PEM private key (nor base64 of one)" };
  if (vars.PRIVATE_KEY_PATH?.trim())
    return { variable: "PRIVATE_KEY_PATH", message: `no readable key file at ${vars.PRIVATE_KEY_PATH}` };
  return { variable: "PRIVATE_KEY_PATH", message: "several .pem files in the working directory: name one" };
}
