import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_VARIABLES, EnvError, loadEnv, requireTokenSecretFor, type EnvVars } from "../../../src/config/env";
import { downstream, relayConfig } from "../../support/relay-config";

const SECRET = "s".repeat(32);

function envErrorOf(vars: EnvVars): EnvError {
  try {
    loadEnv(vars);
  } catch (error) {
    if (error instanceof EnvError) return error;
    throw error;
  }
  throw new Error("expected loadEnv to throw");
}

describe("loadEnv", () => {
  test("an empty environment takes every SPEC default", () => {
    expect(loadEnv({})).toEqual({
      port: 3000,
      logLevel: "info",
      relayPublicUrl: "http://localhost:3000",
      relayTokenSecrets: [],
      oidcIssuer: "https://token.actions.githubusercontent.com",
      callbackAudience: "ci-relay-callback",
      brokerAudience: "ci-relay-broker",
      redisPrefix: "",
      outboxConcurrency: 8,
      outboxDrainIntervalSeconds: 5,
      outboxLeaseSeconds: 15,
      dispatchGiveUpMinutes: 60,
      callbackRateLimitPerMinute: 600,
      redeliverMissed: true,
      redisCluster: false,
    });
  });

  test("REDELIVER_MISSED is true or false, nothing else", () => {
    expect(loadEnv({ REDELIVER_MISSED: "false" }).redeliverMissed).toBe(false);
    expect(() => loadEnv({ REDELIVER_MISSED: "no" })).toThrow("REDELIVER_MISSED: must be true or false");
  });

  test("blank variables count as unset, as in a copied .env.example", () => {
    expect(loadEnv({ HUD_URL: "", HUD_TOKEN: "", PORT: " ", RELAY_TOKEN_SECRET: "" })).toMatchObject({
      port: 3000,
      relayTokenSecrets: [],
    });
    expect(loadEnv({ HUD_URL: "" }).hudUrl).toBeUndefined();
  });

  test("the public URL follows PORT and loses its trailing slash", () => {
    expect(loadEnv({ PORT: "8080" }).relayPublicUrl).toBe("http://localhost:8080");
    expect(loadEnv({ RELAY_PUBLIC_URL: "https://relay.example.com/" }).relayPublicUrl).toBe(
      "https://relay.example.com",
    );
  });

  test("a comma-separated RELAY_TOKEN_SECRET becomes the rotation list, first one first", () => {
    const second = "t".repeat(40);
    expect(loadEnv({ RELAY_TOKEN_SECRET: `${SECRET}, ${second}` }).relayTokenSecrets).toEqual([SECRET, second]);
  });

  test("secret length is counted in UTF-8 bytes", () => {
    const elevenEuros = "€".repeat(11); // 33 bytes, 11 characters
    expect(loadEnv({ RELAY_TOKEN_SECRET: elevenEuros }).relayTokenSecrets).toEqual([elevenEuros]);
  });

  test("every variable is read into its field", () => {
    const env = loadEnv({
      APP_ID: "12345",
      PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
      WEBHOOK_SECRET: "hook",
      WEBHOOK_PROXY_URL: "https://smee.io/abc",
      GHE_HOST: "127.0.0.1:4010",
      GHE_PROTOCOL: "http",
      HOST: "0.0.0.0",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "json",
      REDIS_URL: "redis://127.0.0.1:6379/0",
      RELAY_CONFIG: "github:pytorch/pytorch/.github/relay.yml@main",
      UPSTREAM_REPO: "pytorch/pytorch",
      HUD_URL: "https://hud.example.com/api",
      HUD_TOKEN: "hud",
      AUDIT_LOG: "/var/log/relay-audit.jsonl",
      REDIS_PREFIX: "relay-a:",
      OUTBOX_CONCURRENCY: "2",
      DISPATCH_GIVE_UP_MINUTES: "30",
    });
    expect(env).toMatchObject({
      appId: 12345,
      webhookSecret: "hook",
      gheHost: "127.0.0.1:4010",
      gheProtocol: "http",
      logLevel: "debug",
      logFormat: "json",
      redisUrl: "redis://127.0.0.1:6379/0",
      relayConfig: "github:pytorch/pytorch/.github/relay.yml@main",
      upstreamRepo: "pytorch/pytorch",
      hudUrl: "https://hud.example.com/api",
      hudToken: "hud",
      redisPrefix: "relay-a:",
      outboxConcurrency: 2,
      dispatchGiveUpMinutes: 30,
    });
  });

  test.each([
    [{ PORT: "70000" }, "PORT: must be an integer from 1 to 65535"],
    [{ APP_ID: "abc" }, `APP_ID: must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}`],
    [{ GHE_HOST: "https://ghe.example.com" }, "GHE_HOST: must be a host name, without scheme or path"],
    [{ GHE_PROTOCOL: "ftp" }, "GHE_PROTOCOL: must be http or https"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent"],
    [{ LOG_FORMAT: "xml" }, "LOG_FORMAT: must be json or pretty"],
    [{ WEBHOOK_PROXY_URL: "smee" }, "WEBHOOK_PROXY_URL: must be an http(s) URL"],
    [{ RELAY_CONFIG: "github:pytorch" }, "RELAY_CONFIG: must be a local path or github:OWNER/REPO/PATH[@REF]"],
    [
      { ALLOWLIST_URL: "https://github.com/pytorch/pytorch/tree/main/x.yml" },
      "ALLOWLIST_URL: must be a GitHub blob URL like https://github.com/OWNER/REPO/blob/REF/PATH",
    ],
    [{ UPSTREAM_REPO: "pytorch" }, "UPSTREAM_REPO: must look like owner/repo"],
    [{ RELAY_PUBLIC_URL: "relay.example.com" }, "RELAY_PUBLIC_URL: must be an http(s) URL"],
    [{ OIDC_ISSUER: "issuer" }, "OIDC_ISSUER: must be an http(s) URL"],
    [{ HUD_URL: "https://hud.example.com" }, "HUD_TOKEN: required when HUD_URL is set"],
    [{ REDIS_CLUSTER: "yes", REDIS_URL: "redis://127.0.0.1:7000" }, "REDIS_CLUSTER: must be true or false"],
    [{ REDIS_CLUSTER: "true" }, "REDIS_CLUSTER: needs REDIS_URL (a node of the cluster)"],
    [{ CALLBACK_AUDIENCE: "same", BROKER_AUDIENCE: "same" }, "BROKER_AUDIENCE: must differ from CALLBACK_AUDIENCE"],
    [{ BROKER_AUDIENCE: "ci-relay-callback" }, "BROKER_AUDIENCE: must differ from CALLBACK_AUDIENCE"],
    [{ OUTBOX_CONCURRENCY: "0" }, "OUTBOX_CONCURRENCY: must be an integer from 1 to 1000"],
    [{ OUTBOX_DRAIN_INTERVAL_SECONDS: "1.5" }, "OUTBOX_DRAIN_INTERVAL_SECONDS: must be an integer from 1 to 3600"],
    [{ DISPATCH_GIVE_UP_MINUTES: "-1" }, "DISPATCH_GIVE_UP_MINUTES: must be an integer from 1 to 10080"],
    [
      { CALLBACK_RATE_LIMIT_PER_MINUTE: "lots" },
      "CALLBACK_RATE_LIMIT_PER_MINUTE: must be an integer from 1 to 1000000",
    ],
    [{ RELAY_TOKEN_SECRET: "short" }, "RELAY_TOKEN_SECRET: each secret must be at least 32 bytes"],
  ])("bad value %j is reported in one line", (vars, line) => {
    expect(envErrorOf(vars).message).toBe(line);
  });

  test("every bad variable gets its own line, even when a cross-check fails too", () => {
    const error = envErrorOf({ PORT: "x", LOG_LEVEL: "loud", CALLBACK_AUDIENCE: "a", BROKER_AUDIENCE: "a" });
    expect(error.message.split("\n")).toEqual([
      "PORT: must be an integer from 1 to 65535",
      "LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent",
      "BROKER_AUDIENCE: must differ from CALLBACK_AUDIENCE",
    ]);
    expect(error.problems.map((problem) => problem.variable)).toEqual(["PORT", "LOG_LEVEL", "BROKER_AUDIENCE"]);
  });

  test("a rotation list with one short secret is refused without echoing any secret", () => {
    const longOne = `long-secret-${"x".repeat(40)}`;
    const shortOne = "short-secret-value";
    const error = envErrorOf({ RELAY_TOKEN_SECRET: `${longOne},${shortOne}` });
    expect(error.message).toBe("RELAY_TOKEN_SECRET: each secret must be at least 32 bytes");
    expect(error.message).not.toContain(shortOne);
    expect(error.message).not.toContain(longOne);
  });

  test("malformed secret-bearing URLs are refused without echoing them", () => {
    const redisUrl = "http://user:hunter2-password@redis.internal:6379";
    const error = envErrorOf({ REDIS_URL: redisUrl, HUD_URL: "not a url hud-secret", HUD_TOKEN: "hud-token-value" });
    expect(error.message).toBe("REDIS_URL: must be a redis:// or rediss:// URL\nHUD_URL: must be an http(s) URL");
    expect(error.message).not.toContain("hunter2");
    expect(error.message).not.toContain("hud-secret");
    expect(error.message).not.toContain("hud-token-value");
  });
});

describe("requireTokenSecretFor", () => {
  const l1Only = relayConfig({ downstreams: [downstream({ repo: "example/observer", level: "L1" })] });

  test("a config with only L1 downstreams runs without RELAY_TOKEN_SECRET", () => {
    expect(() => requireTokenSecretFor(l1Only, { relayTokenSecrets: [] })).not.toThrow();
  });

  test("an L2+ downstream without RELAY_TOKEN_SECRET is an env error naming it", () => {
    const config = relayConfig({
      downstreams: [
        downstream({ repo: "example/observer", level: "L1" }),
        downstream({ repo: "vendor/backend", level: "L2" }),
      ],
    });
    const check = () => requireTokenSecretFor(config, { relayTokenSecrets: [] });
    expect(check).toThrow(EnvError);
    expect(check).toThrow(/^RELAY_TOKEN_SECRET: required because downstream vendor\/backend is L2$/);
  });

  test("an L2+ downstream with a secret set passes", () => {
    expect(() => requireTokenSecretFor(relayConfig(), { relayTokenSecrets: [SECRET] })).not.toThrow();
  });
});

describe(".env.example", () => {
  const example = readFileSync(join(__dirname, "../../../.env.example"), "utf8");
  const assignments = [...example.matchAll(/^([A-Z0-9_]+)=(.*)$/gm)].map(([, name, value]) => [name, value] as const);

  test("lists every variable the relay reads, each after a comment line", () => {
    expect(assignments.map(([name]) => name).sort()).toEqual([...ENV_VARIABLES].sort());
    for (const [name] of assignments) expect(example).toMatch(new RegExp(`^# .+\\n${name}=`, "m"));
  });

  test("as copied, it loads to the defaults", () => {
    expect(loadEnv(Object.fromEntries(assignments))).toEqual(loadEnv({}));
  });
});
