import { join } from "node:path";
import Redis from "ioredis";
import { startFakeGitHub, type FakeGitHub } from "../../support/fake-github";
import { testRedisUrl } from "../../support/redis-prefix";
import {
  cleanupRedisPrefix,
  startRelayServer,
  uniqueRedisPrefix,
  type RelayServer,
} from "../../support/server-harness";

// The harness's own behaviour, shown with a stand-in for lib/main.js; the relay's e2e suites
// exercise it with the real server.
const STAND_IN = join(__dirname, "../../fixtures/stand-in-relay.js");

let github: FakeGitHub;
let server: RelayServer | undefined;

beforeEach(async () => {
  github = await startFakeGitHub();
});

afterEach(async () => {
  await server?.kill();
  server = undefined;
  await github.close();
});

describe("relay server harness", () => {
  test("starts the server wired to the fake GitHub and captures its JSON logs", async () => {
    server = await startRelayServer({
      fakeGitHub: github,
      entry: STAND_IN,
      configYaml: "version: 1\n",
      env: { EXTRA: "passed" },
    });

    const response = await fetch(server.url("/relay/health"));
    const env = await server.waitForLog((record) => record.msg === "env");

    expect(response.status).toBe(200);
    expect(env).toMatchObject({
      APP_ID: String(github.appId),
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      REDIS_PREFIX: server.redisPrefix,
      LOG_FORMAT: "json",
      hasPrivateKey: true,
      config: "version: 1\n",
      extra: "passed",
    });
    expect(server.logs()).toContain('"msg":"listening"');
  });

  test("a server that exits at start fails with what it printed", async () => {
    const start = startRelayServer({
      fakeGitHub: github,
      entry: STAND_IN,
      configYaml: "",
      env: { STAND_IN_MODE: "exit-at-start" },
    });

    await expect(start).rejects.toThrow(/exited \(code 1[\s\S]*RELAY_TOKEN_SECRET: must be at least 32 bytes/);
  });

  test("a server that never turns healthy fails after the ready timeout and is killed", async () => {
    const start = startRelayServer({
      fakeGitHub: github,
      entry: STAND_IN,
      configYaml: "",
      env: { STAND_IN_MODE: "never-ready" },
      readyTimeoutMs: 500,
    });

    await expect(start).rejects.toThrow(/not ready within 500 ms \(GET \/relay\/health answered 503/);
  });

  test("stop lets the server shut down on SIGTERM", async () => {
    server = await startRelayServer({ fakeGitHub: github, entry: STAND_IN, configYaml: "" });

    const exit = await server.stop();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.logRecords().map((r) => r.msg)).toContain("stopping");
  });

  test("stop kills a server that ignores SIGTERM", async () => {
    server = await startRelayServer({
      fakeGitHub: github,
      entry: STAND_IN,
      configYaml: "",
      env: { STAND_IN_MODE: "ignore-sigterm" },
    });

    const exit = await server.stop();

    expect(exit.signal).toBe("SIGKILL");
  });

  test("refuses to start without a relay config, rather than read ./relay.yml", async () => {
    await expect(startRelayServer({ fakeGitHub: github, entry: STAND_IN })).rejects.toThrow(/needs configYaml/);
  });
});

test("cleanupRedisPrefix deletes its prefix's keys and no others", async () => {
  const prefix = uniqueRedisPrefix();
  const neighbour = uniqueRedisPrefix();
  const redis = new Redis(testRedisUrl());
  try {
    await redis.mset(`${prefix}a`, "1", `${prefix}b:c`, "2", `${neighbour}a`, "3");

    const deleted = await cleanupRedisPrefix(prefix);

    expect(deleted).toBe(2);
    expect(await redis.exists(`${prefix}a`, `${prefix}b:c`)).toBe(0);
    expect(await redis.get(`${neighbour}a`)).toBe("3");
  } finally {
    await redis.del(`${neighbour}a`);
    redis.disconnect();
  }
});
