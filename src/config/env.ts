import { z } from "zod";
import { parseRedisUrl } from "../store/redis-url";
import { isGithubConfigRef, LOCATION_FORMAT, parseBlobUrl, parseGithubConfigRef } from "./config-location";
import { repoName } from "./repo-name";
import type { RelayConfig } from "./types";

/** The process environment after validation (SPEC §1). Unset and blank variables are both absent. */
export interface RelayEnv {
  appId?: number;
  privateKey?: string;
  privateKeyPath?: string;
  webhookSecret?: string;
  webhookProxyUrl?: string;
  gheHost?: string;
  gheProtocol?: "http" | "https";
  port: number;
  host?: string;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  logFormat?: "json" | "pretty";
  redisUrl?: string;
  relayConfig?: string;
  allowlistUrl?: string;
  upstreamRepo?: string;
  /** no trailing slash */
  relayPublicUrl: string;
  /** the first signs, all verify; empty when RELAY_TOKEN_SECRET is unset */
  relayTokenSecrets: readonly string[];
  oidcIssuer: string;
  callbackAudience: string;
  brokerAudience: string;
  hudUrl?: string;
  hudToken?: string;
  auditLog?: string;
  redisPrefix: string;
  /** REDIS_URL names a node of a Redis Cluster (ElastiCache Serverless, cluster-mode Redis) */
  redisCluster: boolean;
  outboxConcurrency: number;
  outboxDrainIntervalSeconds: number;
  outboxLeaseSeconds: number;
  dispatchGiveUpMinutes: number;
  callbackRateLimitPerMinute: number;
  /** SPEC §3 "Missed deliveries": ask GitHub to redeliver failed deliveries that were never stored */
  redeliverMissed: boolean;
}

export interface EnvProblem {
  variable: string;
  message: string;
}

/** Bad settings, one line per variable: `NAME: reason`. Never carries a value. */
export class EnvError extends Error {
  constructor(readonly problems: EnvProblem[]) {
    super(problems.map(({ variable, message }) => `${variable}: ${message}`).join("\n"));
    this.name = "EnvError";
  }
}

const MIN_SECRET_BYTES = 32;

function integer(min: number, max: number) {
  return z
    .string()
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: `must be an integer from ${min} to ${max}`,
    })
    .transform(Number);
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const httpUrl = z.string().refine((value) => isUrl(value, ["http:", "https:"]), { error: "must be an http(s) URL" });

/** REDIS_URL, as the relay and the `ci-relay worker` read it. */
export const redisUrlVariable = z
  .string()
  .refine((value) => parseRedisUrl(value) !== null, { error: "must be a redis:// or rediss:// URL" });

const withoutTrailingSlash = (value: string) => value.replace(/\/+$/, "");

/** Messages here are fixed text: nothing a variable holds (some are secrets) can reach an error. */
const envSchema = z
  .object({
    APP_ID: integer(1, Number.MAX_SAFE_INTEGER).optional(),
    PRIVATE_KEY: z.string().optional(),
    PRIVATE_KEY_PATH: z.string().optional(),
    WEBHOOK_SECRET: z.string().optional(),
    WEBHOOK_PROXY_URL: httpUrl.optional(),
    GHE_HOST: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { error: "must be a host name, without scheme or path" })
      .optional(),
    GHE_PROTOCOL: z.enum(["http", "https"], { error: "must be http or https" }).optional(),
    PORT: integer(1, 65535).default(3000),
    HOST: z.string().optional(),
    LOG_LEVEL: z
      .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
        error: "must be one of trace, debug, info, warn, error, fatal, silent",
      })
      .default("info"),
    LOG_FORMAT: z.enum(["json", "pretty"], { error: "must be json or pretty" }).optional(),
    REDIS_URL: redisUrlVariable.optional(),
    RELAY_CONFIG: z
      .string()
      .refine((value) => !isGithubConfigRef(value) || parseGithubConfigRef(value) !== null, {
        error: LOCATION_FORMAT.RELAY_CONFIG,
      })
      .optional(),
    ALLOWLIST_URL: z
      .string()
      .refine((value) => parseBlobUrl(value) !== null, { error: LOCATION_FORMAT.ALLOWLIST_URL })
      .optional(),
    UPSTREAM_REPO: repoName.optional(),
    RELAY_PUBLIC_URL: httpUrl.transform(withoutTrailingSlash).optional(),
    RELAY_TOKEN_SECRET: z
      .string()
      .transform((value) => value.split(",").map((secret) => secret.trim()))
      .refine((secrets) => secrets.every((secret) => Buffer.byteLength(secret, "utf8") >= MIN_SECRET_BYTES), {
        error: `each secret must be at least ${MIN_SECRET_BYTES} bytes`,
      })
      .optional(),
    OIDC_ISSUER: httpUrl.default("https://token.actions.githubusercontent.com"),
    CALLBACK_AUDIENCE: z.string().default("ci-relay-callback"),
    BROKER_AUDIENCE: z.string().default("ci-relay-broker"),
    HUD_URL: httpUrl.optional(),
    HUD_TOKEN: z.string().optional(),
    AUDIT_LOG: z.string().optional(),
    REDIS_PREFIX: z.string().default(""),
    REDIS_CLUSTER: z
      .enum(["true", "false"], { error: "must be true or false" })
      .default("false")
      .transform((value) => value === "true"),
    OUTBOX_CONCURRENCY: integer(1, 1000).default(8),
    OUTBOX_DRAIN_INTERVAL_SECONDS: integer(1, 3600).default(5),
    // Renewed by its holder every third of this while a task runs: a short lease bounds how long a
    // dead process's claimed work waits (lease + one drain interval), not how long a task may take.
    OUTBOX_LEASE_SECONDS: integer(1, 3600).default(15),
    DISPATCH_GIVE_UP_MINUTES: integer(1, 10080).default(60),
    CALLBACK_RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
    REDELIVER_MISSED: z
      .enum(["true", "false"], { error: "must be true or false" })
      .default("true")
      .transform((value) => value === "true"),
  })
  // `when` makes these run even when another variable is already bad, so every problem shows at once.
  .refine((env) => env.CALLBACK_AUDIENCE !== env.BROKER_AUDIENCE, {
    path: ["BROKER_AUDIENCE"],
    error: "must differ from CALLBACK_AUDIENCE",
    when: () => true,
  })
  .refine((env) => env.HUD_URL === undefined || env.HUD_TOKEN !== undefined, {
    path: ["HUD_TOKEN"],
    error: "required when HUD_URL is set",
    when: () => true,
  })
  .refine((env) => !env.REDIS_CLUSTER || env.REDIS_URL !== undefined, {
    path: ["REDIS_CLUSTER"],
    error: "needs REDIS_URL (a node of the cluster)",
    when: () => true,
  });

/** Every variable the relay reads (`.env.example` lists each one). */
export const ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** `process.env`, or any plain map of variables (tests). */
export type EnvVars = Readonly<Record<string, string | undefined>>;

/** Blank values count as unset: a copied `.env.example` leaves placeholders empty. */
function withoutBlanks(env: EnvVars): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ""),
  );
}

/** Validates SPEC §1's variables; throws an EnvError naming every bad one. */
export function loadEnv(env: EnvVars): RelayEnv {
  const parsed = envSchema.safeParse(withoutBlanks(env));
  if (!parsed.success) {
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0]);
      if (!problems.has(variable)) problems.set(variable, issue.message);
    }
    throw new EnvError([...problems].map(([variable, message]) => ({ variable, message })));
  }
  const vars = parsed.data;
  return {
    appId: vars.APP_ID,
    privateKey: vars.PRIVATE_KEY,
    privateKeyPath: vars.PRIVATE_KEY_PATH,
    webhookSecret: vars.WEBHOOK_SECRET,
    webhookProxyUrl: vars.WEBHOOK_PROXY_URL,
    gheHost: vars.GHE_HOST,
    gheProtocol: vars.GHE_PROTOCOL,
    port: vars.PORT,
    host: vars.HOST,
    logLevel: vars.LOG_LEVEL,
    logFormat: vars.LOG_FORMAT,
    redisUrl: vars.REDIS_URL,
    relayConfig: vars.RELAY_CONFIG,
    allowlistUrl: vars.ALLOWLIST_URL,
    upstreamRepo: vars.UPSTREAM_REPO,
    relayPublicUrl: vars.RELAY_PUBLIC_URL ?? `http://localhost:${vars.PORT}`,
    // Frozen: verified relay tokens are remembered per secrets list (auth/relay-token.ts).
    relayTokenSecrets: Object.freeze(vars.RELAY_TOKEN_SECRET ?? []),
    oidcIssuer: vars.OIDC_ISSUER,
    callbackAudience: vars.CALLBACK_AUDIENCE,
    brokerAudience: vars.BROKER_AUDIENCE,
    hudUrl: vars.HUD_URL,
    hudToken: vars.HUD_TOKEN,
    auditLog: vars.AUDIT_LOG,
    redisPrefix: vars.REDIS_PREFIX,
    redisCluster: vars.REDIS_CLUSTER,
    outboxConcurrency: vars.OUTBOX_CONCURRENCY,
    outboxDrainIntervalSeconds: vars.OUTBOX_DRAIN_INTERVAL_SECONDS,
    outboxLeaseSeconds: vars.OUTBOX_LEASE_SECONDS,
    dispatchGiveUpMinutes: vars.DISPATCH_GIVE_UP_MINUTES,
    callbackRateLimitPerMinute: vars.CALLBACK_RATE_LIMIT_PER_MINUTE,
    redeliverMissed: vars.REDELIVER_MISSED,
  };
}

/**
 * Whether no App credential is set at all: only then does `npm start` open Probot's setup flow
 * (SPEC §1). Any one set means the relay is meant to run, and `requireAppCredentials` asks for the rest.
 */
export function lacksAllAppCredentials(
  env: Pick<RelayEnv, "appId" | "privateKey" | "privateKeyPath" | "webhookSecret">,
): boolean {
  return (
    env.appId === undefined &&
    env.privateKey === undefined &&
    env.privateKeyPath === undefined &&
    env.webhookSecret === undefined
  );
}

/**
 * The relay runs with all three credentials or not at all: without a key it cannot call GitHub, and
 * without WEBHOOK_SECRET Probot would check signatures against a well-known default. `hasKey` counts
 * a key found any way Probot finds one (PRIVATE_KEY, PRIVATE_KEY_PATH, a lone .pem file).
 */
export function requireAppCredentials(env: Pick<RelayEnv, "appId" | "webhookSecret">, hasKey: boolean): void {
  const problems: EnvProblem[] = [];
  if (env.appId === undefined) problems.push({ variable: "APP_ID", message: "required: the GitHub App's numeric id" });
  if (!hasKey)
    problems.push({ variable: "PRIVATE_KEY", message: "required (or PRIVATE_KEY_PATH): the GitHub App's private key" });
  if (env.webhookSecret === undefined)
    problems.push({ variable: "WEBHOOK_SECRET", message: "required: the secret GitHub signs webhooks with" });
  if (problems.length > 0) throw new EnvError(problems);
}

/** RELAY_TOKEN_SECRET is needed once any downstream keeps callbacks (L2+, SPEC §1). */
export function requireTokenSecretFor(config: RelayConfig, env: Pick<RelayEnv, "relayTokenSecrets">): void {
  if (env.relayTokenSecrets.length > 0) return;
  const keeper = config.downstreams.find((downstream) => downstream.level !== "L1");
  if (keeper === undefined) return;
  throw new EnvError([
    { variable: "RELAY_TOKEN_SECRET", message: `required because downstream ${keeper.repo} is ${keeper.level}` },
  ]);
}
