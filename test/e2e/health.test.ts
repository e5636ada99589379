import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "@jest/globals";
import express from "express";
import pino from "pino";
import { Probot } from "probot";
import { loadEnv, type RelayEnv } from "../../src/config/env";
import { createRelay, type Relay } from "../../src/create-relay";
import { GITHUB_CALL_OUTCOMES } from "../../src/github/github-call-outcome";
import { GitHubCalls } from "../../src/github/github-calls";
import { relayOctokit } from "../../src/github/relay-octokit";
import { createMetrics, type Metrics } from "../../src/metrics/metrics";
import { relayRouter } from "../../src/relay-router";
import { RedisStore } from "../../src/store/redis-store";
import type { Store } from "../../src/store/store";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import type { HealthBody } from "../support/health-answer";
import { parsePrometheusText } from "../support/prometheus-text";
import { readJson } from "../support/read-json";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";

/**
 * SPEC §6 health and §7 metrics, in process: the relay's own Octokit (as `createProbot` builds it)
 * against the fake GitHub over HTTP, a real Redis, and a clock the test moves, so "failing for over
 * a minute" and "due for over five minutes" are reached without waiting.
 */

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L1 }
`;

/** A loopback port nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

interface InProcessRelay {
  relay: Relay;
  probot: Probot;
  metrics: Metrics;
  url: string;
  close(): Promise<void>;
}

async function startInProcess(
  env: RelayEnv,
  store: Store,
  apiUrl: string,
  now: () => number,
  loadConfig = true,
): Promise<InProcessRelay> {
  const metrics = createMetrics();
  const githubCalls = new GitHubCalls(metrics, now);
  const log = pino({ level: "silent" });
  const { appId, privateKeyPem } = testAppCredentials();
  const probot = new Probot({
    appId,
    privateKey: privateKeyPem,
    baseUrl: apiUrl,
    log,
    // Octokit's own retries of 5xx wait seconds; the outcomes under test are per attempt either way.
    Octokit: relayOctokit(metrics, log, githubCalls).defaults({ retry: { enabled: false } }),
  });
  const relay = createRelay(probot, env, { store, metrics, githubCalls, now });
  if (loadConfig) await relay.config.start();
  const app = express();
  app.use("/relay", relayRouter(relay));
  const server: Server = await new Promise((done) => {
    const listening = app.listen(0, "127.0.0.1", () => done(listening));
  });
  return {
    relay,
    probot,
    metrics,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      relay.config.close();
      await relay.store.close();
    },
  };
}

async function getJson(url: string): Promise<{ status: number; body: HealthBody }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: await readJson<HealthBody>(response) };
}

async function scrape(url: string) {
  const response = await fetch(`${url}/relay/metrics`, { signal: AbortSignal.timeout(30_000) });
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe("health and metrics tell the truth (relay in process, fake GitHub, Redis)", () => {
  let github: FakeGitHub;
  let dir: string;
  let env: RelayEnv;
  let prefix: string;
  let subject: InProcessRelay;
  // Real time plus what the test skips.
  let skipped = 0;
  const now = () => Date.now() + skipped;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    dir = mkdtempSync(join(tmpdir(), "ci-relay-health-"));
    writeFileSync(join(dir, "relay.yml"), CONFIG);
    env = loadEnv({ RELAY_CONFIG: join(dir, "relay.yml"), LOG_LEVEL: "silent", APP_ID: "1", PRIVATE_KEY: "set" });
    prefix = uniqueRedisPrefix();
    subject = await startInProcess(env, new RedisStore(testRedisUrl(), prefix), github.apiUrl, now);
  });

  afterAll(async () => {
    await subject?.close();
    await cleanupRedisPrefix(prefix);
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const callGitHub = async (options: { baseUrl?: string } = {}) => {
    const app = await subject.probot.auth();
    return app.request("GET /app", options).then(
      () => "ok",
      () => "failed",
    );
  };

  it("a working relay answers 200 with every SPEC §6 field, GitHub's last success and degraded []", async () => {
    expect(await callGitHub()).toBe("ok");
    const { status, body } = await getJson(`${subject.url}/relay/health`);
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      service: "ci-relay",
      version: expect.any(String),
      github: {
        configured: true,
        credentialRef: "env:PRIVATE_KEY",
        valuesPrinted: false,
        lastOkAt: expect.any(String),
        failingSince: null,
      },
      store: { kind: "redis", ok: true },
      config: { loaded: true, source: join(dir, "relay.yml") },
      outbox: { depth: 0, oldestDueSeconds: 0 },
      degraded: [],
      capabilities: expect.arrayContaining(["relay.dispatch", "relay.redeliver-missed", "github.issue.read"]),
    });
    expect(Math.abs(Date.parse(String(body.github.lastOkAt)) - now())).toBeLessThan(60_000);
  });

  it("a GitHub outage (500s, then connection refused) moves the failure counters, sets failingSince and, after a minute, says github-failing", async () => {
    github.failNext({ path: "/app", status: 500, times: 3 });
    for (let i = 0; i < 3; i++) expect(await callGitHub()).toBe("failed");
    const refused = `http://127.0.0.1:${await closedPort()}/api/v3`;
    expect(await callGitHub({ baseUrl: refused })).toBe("failed");

    const metrics = await scrape(subject.url);
    const calls = (outcome: string) =>
      metrics.select("ci_relay_github_api_calls_total", { outcome }).reduce((sum, s) => sum + s.value, 0);
    expect(
      metrics.value("ci_relay_github_api_calls_total", { method: "GET", status: "5xx", outcome: "server_error" }),
    ).toBe(3);
    expect(
      metrics.value("ci_relay_github_api_calls_total", { method: "GET", status: "network", outcome: "network_error" }),
    ).toBe(1);
    expect(calls("ok")).toBeGreaterThan(0);

    const early = await getJson(`${subject.url}/relay/health`);
    expect(early.status).toBe(200);
    expect(early.body.github.failingSince).toEqual(expect.any(String));
    expect(early.body.degraded).toEqual([]); // not yet a minute

    skipped += 61_000;
    expect(await callGitHub({ baseUrl: refused })).toBe("failed");
    const late = await getJson(`${subject.url}/relay/health`);
    expect(late.status).toBe(200); // work is still accepted: it waits in the outbox
    expect(late.body.ok).toBe(true);
    expect(late.body.degraded).toEqual(["github-failing"]);
    expect(late.body.github.failingSince).toBe(early.body.github.failingSince);

    // One call that works ends the spell.
    expect(await callGitHub()).toBe("ok");
    const recovered = await getJson(`${subject.url}/relay/health`);
    expect(recovered.body.degraded).toEqual([]);
    expect(recovered.body.github.failingSince).toBeNull();
    expect(Date.parse(String(recovered.body.github.lastOkAt))).toBeGreaterThan(
      Date.parse(String(early.body.github.failingSince)),
    );
  });

  it("emits every GitHub call outcome its HELP text promises, in strictly valid exposition format", async () => {
    github.failNext({ path: "/app", status: 404 });
    expect(await callGitHub()).toBe("failed");
    github.failNext({ path: "/app", status: 401, body: { message: "Bad credentials" } });
    expect(await callGitHub()).toBe("failed");
    github.failNext({ path: "/app", status: 429 });
    expect(await callGitHub()).toBe("failed");
    github.failNext({ path: "/app", status: 403, body: { message: "You have exceeded a secondary rate limit." } });
    expect(await callGitHub()).toBe("failed");

    const metrics = await scrape(subject.url);
    const family = metrics.families.get("ci_relay_github_api_calls_total");
    expect(family?.type).toBe("counter");
    for (const outcome of GITHUB_CALL_OUTCOMES) {
      expect(family?.help).toContain(outcome);
      expect(metrics.select("ci_relay_github_api_calls_total", { outcome }).length).toBeGreaterThan(0);
    }
    expect(
      metrics.value("ci_relay_github_api_calls_total", { method: "GET", status: "4xx", outcome: "rate_limited" }),
    ).toBe(2);
    expect(
      metrics.value("ci_relay_github_api_calls_total", { method: "GET", status: "4xx", outcome: "unauthorized" }),
    ).toBe(1);
    expect(
      metrics.value("ci_relay_github_api_calls_total", { method: "GET", status: "4xx", outcome: "client_error" }),
    ).toBe(1);
  });

  it("due outbox work older than five minutes shows in the gauges and as outbox-stalled", async () => {
    const task = { id: "stalled-task", kind: "dispatch" as const, data: { requestId: "none" } };
    await subject.relay.outbox.enqueue(task, now());
    skipped += 301_000;
    const { status, body } = await getJson(`${subject.url}/relay/health`);
    expect(status).toBe(200);
    expect(body.outbox).toEqual({ depth: 1, oldestDueSeconds: expect.any(Number) });
    expect(body.outbox.oldestDueSeconds).toBeGreaterThan(300);
    expect(body.degraded).toContain("outbox-stalled");
    const metrics = await scrape(subject.url);
    expect(metrics.value("ci_relay_outbox_depth")).toBe(1);
    expect(metrics.value("ci_relay_outbox_oldest_due_seconds")).toBeGreaterThan(300);

    const [claimed] = await subject.relay.outbox.claim(now(), 60_000, 1);
    await subject.relay.outbox.complete(claimed, now());
    expect((await getJson(`${subject.url}/relay/health`)).body.degraded).not.toContain("outbox-stalled");
  });

  it("work stuck in flight (claimed, never finished) for over five minutes is outbox-stalled too", async () => {
    await subject.relay.outbox.enqueue({ id: "stuck-task", kind: "dispatch", data: { requestId: "none" } }, now());
    const [held] = await subject.relay.outbox.claim(now(), 3_600_000, 1);
    const stuck = held.task;
    expect(stuck.id).toBe("stuck-task");
    skipped += 301_000;
    expect((await getJson(`${subject.url}/relay/health`)).body.degraded).toContain("outbox-stalled");
    await subject.relay.outbox.retryAt(stuck, now() + 60_000, "rescheduled");
    expect((await getJson(`${subject.url}/relay/health`)).body).toMatchObject({
      outbox: { depth: 1, oldestDueSeconds: 0 },
    });
    skipped += 61_000;
    const [again] = await subject.relay.outbox.claim(now(), 60_000, 1);
    await subject.relay.outbox.complete(again, now());
  });

  it("answers 503 with the same body, promptly, when Redis is unreachable", async () => {
    const unreachable = await startInProcess(
      env,
      new RedisStore(`redis://127.0.0.1:${await closedPort()}`, uniqueRedisPrefix()),
      github.apiUrl,
      now,
    );
    try {
      const { status, body } = await getJson(`${unreachable.url}/relay/health`);
      expect(status).toBe(503);
      expect(body).toMatchObject({
        ok: false,
        service: "ci-relay",
        store: { kind: "redis", ok: false },
        config: { loaded: true },
        outbox: { depth: null, oldestDueSeconds: null },
        github: { valuesPrinted: false },
      });
      expect(Array.isArray(body.degraded)).toBe(true);
    } finally {
      await unreachable.close();
    }
  });

  it("answers 503 while no relay config is loaded", async () => {
    const unconfigured = await startInProcess(env, new RedisStore(testRedisUrl(), prefix), github.apiUrl, now, false);
    try {
      const { status, body } = await getJson(`${unconfigured.url}/relay/health`);
      expect(status).toBe(503);
      expect(body).toMatchObject({
        ok: false,
        store: { ok: true },
        config: { loaded: false, source: join(dir, "relay.yml") },
      });
    } finally {
      await unconfigured.close();
    }
  });
});
