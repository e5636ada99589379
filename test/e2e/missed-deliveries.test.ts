import { createServer, type AddressInfo } from "node:net";
import Redis from "ioredis";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { parsePrometheusText } from "../support/prometheus-text";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";
import { startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha } from "../support/webhooks";

/**
 * SPEC §3 "Missed deliveries", end to end: the fake GitHub delivers PRs while the relay is down (as
 * GitHub does, once, never retrying); once the relay is back it finds them in the app's delivery
 * list and has GitHub redeliver each, with no operator action.
 */

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L1 }
`;
const CHECKED = "missed deliveries checked";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("missed deliveries are redelivered (real server, fake GitHub, Redis)", () => {
  let github: FakeGitHub;
  let relay: RelayServer | undefined;
  let redis: Redis;
  const prefix = uniqueRedisPrefix();
  let number = 500;

  const pr = () =>
    pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "MEMBER",
      number: number++,
      headSha: randomSha(),
    });
  const dispatchesOf = (guid: string) =>
    github.dispatches("vendor/backend").filter((d) => d.clientPayload.delivery_id === guid);
  const asksFor = (id: number) => github.requestsTo("POST", `/app/hook/deliveries/${id}/attempts`).length;
  const checks = () => (relay?.logRecords() ?? []).filter((r) => r.msg === CHECKED);
  /** What a minute passing does for the once-a-minute lock, without the minute. */
  const letAMinutePass = () => redis.del(`${prefix}relay:redeliver:lock`);

  /** A fresh fake GitHub per test: the App's delivery list is what each test made it. */
  beforeEach(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 22, account: "vendor", repos: ["vendor/backend"] });
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await github.close();
  });
  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });

  afterAll(async () => {
    redis.disconnect();
    await cleanupRedisPrefix(prefix);
  });

  it("relays every PR delivered while the relay was down exactly once, and asks for nothing twice", async () => {
    const port = await freePort();
    github.hooks.setTarget(`http://127.0.0.1:${port}`);

    // The relay is down: GitHub's one attempt for each fails to connect.
    const missed = await Promise.all([pr(), pr(), pr()].map((event) => github.hooks.deliver("pull_request", event)));
    expect(missed.map((d) => d.statusCode)).toEqual([0, 0, 0]);

    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      port,
      redisPrefix: prefix,
      logLevel: "info",
      env: { REDELIVER_MISSED: "true", OUTBOX_DRAIN_INTERVAL_SECONDS: "1" },
    });
    await until(() => missed.every((d) => dispatchesOf(d.guid).length === 1), "every missed PR dispatched");
    for (const delivery of missed) expect(asksFor(delivery.id)).toBe(1);
    const redelivered = github.hooks.deliveries.filter((d) => d.redelivery);
    expect(redelivered.map((d) => d.guid).sort()).toEqual(missed.map((d) => d.guid).sort());
    expect(redelivered.every((d) => d.status === "OK")).toBe(true);

    // While it is up: one PR delivered fine, one whose delivery (and then its redelivery) fails.
    const fine = await github.hooks.deliver("pull_request", pr());
    expect(fine.status).toBe("OK");
    const unlucky = pr();
    const unluckyGuid = "unlucky-delivery";
    github.hooks.failNext(unluckyGuid, 2);
    const lost = await github.hooks.deliver("pull_request", unlucky, unluckyGuid);
    expect(lost.statusCode).toBe(0);

    const seen = checks().length;
    await letAMinutePass();
    await until(() => checks().length > seen, "a second check");
    await until(
      () => github.hooks.deliveries.filter((d) => d.guid === unluckyGuid).length === 2,
      "the unlucky redelivery attempted",
    );
    expect(asksFor(lost.id)).toBe(1);

    const seenAgain = checks().length;
    await letAMinutePass();
    await until(() => checks().length > seenAgain, "a third check");
    await github.hooks.settle();

    // Asked once for each missed delivery, never for the one that arrived, not again for the one whose redelivery failed.
    expect(asksFor(fine.id)).toBe(0);
    expect(github.hooks.redeliveryRequests.sort()).toEqual([...missed.map((d) => d.id), lost.id].sort());
    for (const delivery of [...missed, fine]) expect(dispatchesOf(delivery.guid)).toHaveLength(1);
    expect(dispatchesOf(unluckyGuid)).toHaveLength(0);
    expect(github.unhandledRequests()).toEqual([]);

    // The real server's metrics, read strictly, count the asks.
    const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/relay/metrics`)).text());
    expect(metrics.value("ci_relay_redelivery_requests_total", { outcome: "requested" })).toBe(4);
    expect(metrics.select("ci_relay_github_api_calls_total", { outcome: "ok" }).length).toBeGreaterThan(0);
  }, 180_000);

  it("relays the PRs it answered 503 while its github: config could not be read yet, once the config loads", async () => {
    const port = await freePort();
    github.hooks.setTarget(`http://127.0.0.1:${port}`);
    const otherPrefix = uniqueRedisPrefix();
    // No config file in the repository yet: the relay starts, but is not ready.
    const starting = startRelayServer({
      fakeGitHub: github,
      port,
      redisPrefix: otherPrefix,
      logLevel: "info",
      readyTimeoutMs: 60_000,
      env: {
        RELAY_CONFIG: "github:pytorch/pytorch/.github/relay.yml",
        REDELIVER_MISSED: "true",
        OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
      },
    });
    try {
      let health = 0;
      const poll = setInterval(() => {
        fetch(`http://127.0.0.1:${port}/relay/health`).then(
          (r) => (health = r.status),
          () => undefined,
        );
      }, 100);
      await until(() => health === 503, "health 503 while no config is loaded").finally(() => clearInterval(poll));

      const refused = await Promise.all([pr(), pr()].map((event) => github.hooks.deliver("pull_request", event)));
      expect(refused.map((d) => d.statusCode)).toEqual([503, 503]);

      github.setFile("pytorch/pytorch", ".github/relay.yml", CONFIG);
      relay = await starting;
      await until(() => refused.every((d) => dispatchesOf(d.guid).length === 1), "every refused PR dispatched");
      for (const delivery of refused) expect(asksFor(delivery.id)).toBe(1);
    } finally {
      await starting.catch(() => undefined); // stopped by afterEach once started; a failed start killed it
      await cleanupRedisPrefix(otherPrefix);
    }
  }, 180_000);
});
