import { startFakeGitHub, type FakeGitHub, type RecordedRequest } from "../support/fake-github";
import { cleanupRedisPrefix, startRelayServer, uniqueRedisPrefix, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";

/**
 * Four relay processes (`node lib/main.js`) on one Redis prefix, as several servers or many Lambda
 * containers run: every fact they share lives in Redis, including GitHub's write pacing.
 */

const RELAY_TOKEN_SECRET = "multi-instance-relay-token-secret-0123456789";
const UPSTREAM_INSTALLATION = 11;
const INSTANCES = 4;
/** GitHub's pace for one installation's writes, which the relay keeps across processes. */
const WRITE_INTERVAL_MS = 1_000;

const configFor = (repos: string[]) => `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
${repos.map((repo) => `  - { repo: ${repo}, level: L2 }`).join("\n")}
`;

async function fakeGitHubWith(repos: string[]): Promise<FakeGitHub> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
  repos.forEach((repo, i) => github.addInstallation({ id: 21 + i, account: repo.split("/")[0], repos: [repo] }));
  return github;
}

async function startInstances(
  github: FakeGitHub,
  repos: string[],
  env: Record<string, string> = {},
): Promise<RelayServer[]> {
  const redisPrefix = uniqueRedisPrefix();
  return Promise.all(
    Array.from({ length: INSTANCES }, () =>
      startRelayServer({
        fakeGitHub: github,
        configYaml: configFor(repos),
        redisPrefix,
        logLevel: "warn",
        env: { RELAY_TOKEN_SECRET, ...env },
      }),
    ),
  );
}

async function stopInstances(relays: RelayServer[]): Promise<void> {
  await Promise.all(relays.map((relay) => relay.stop()));
  if (relays[0]) await cleanupRedisPrefix(relays[0].redisPrefix);
}

const prOpened = (number: number) =>
  pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    number,
    headSha: randomSha(),
  });
const deliveryOf = (request: RecordedRequest) =>
  (request.body as { client_payload?: { delivery_id?: string } } | null)?.client_payload?.delivery_id;
const isDispatch = (request: RecordedRequest) => request.method === "POST" && request.path.endsWith("/dispatches");
const sent = (request: RecordedRequest) => isDispatch(request) && request.status === 204;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a relay's health until its outbox holds `depth` tasks, claimed ones included. */
async function untilOutboxDepth(relay: RelayServer, depth: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${relay.baseUrl}/relay/health`)).json()) as {
      outbox?: { depth?: number } | null;
    };
    if (health.outbox?.depth === depth) return;
    if (Date.now() > deadline)
      throw new Error(`outbox depth not ${depth} within ${timeoutMs} ms (last ${JSON.stringify(health.outbox)})`);
    await settle(20);
  }
}

/** How many accepted dispatches each (delivery, downstream) got. */
function dispatchCounts(github: FakeGitHub, deliveries: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of github.requests.filter(sent)) {
    const delivery = deliveryOf(request);
    if (delivery === undefined || !deliveries.includes(delivery)) continue;
    const key = `${delivery} -> ${request.path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe("four relay processes on one Redis", () => {
  const repos = ["vendor/backend", "other/farm"];
  let github: FakeGitHub;
  let relays: RelayServer[] = [];

  beforeAll(async () => {
    github = await fakeGitHubWith(repos);
    relays = await startInstances(github, repos);
  }, 60_000);
  afterAll(async () => {
    await stopInstances(relays);
    await github?.close();
  });

  it("dispatches a delivery sent to all four at once exactly once per downstream", async () => {
    const payload = prOpened(1);
    const answers = await Promise.all(
      relays.map((relay) => sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId: "everyone" })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await github.waitForCount((r) => sent(r) && deliveryOf(r) === "everyone", repos.length, 30_000);
    await settle(1_500); // room for a wrong second dispatch to show
    expect([...dispatchCounts(github, ["everyone"]).values()]).toEqual([1, 1]);
  });

  it("dispatches 50 deliveries spread over the four exactly once each, and paces writes per installation across all of them", async () => {
    const deliveries = Array.from({ length: 50 }, (_, i) => `spread-${i}`);
    const answers = await Promise.all(
      deliveries.map((deliveryId, i) =>
        sendWebhook(relays[i % INSTANCES].baseUrl, { event: "pull_request", payload: prOpened(100 + i), deliveryId }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Writes to one installation are paced ~1 s apart in total, so this takes about 50 s.
    await github.waitForCount(
      (r) => sent(r) && deliveries.includes(deliveryOf(r) ?? ""),
      deliveries.length * repos.length,
      110_000,
    );
    await settle(1_500);
    const counts = dispatchCounts(github, deliveries);
    expect(counts.size).toBe(deliveries.length * repos.length);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);

    for (const repo of repos) {
      const times = github.requests
        .filter((r) => sent(r) && r.path === `/repos/${repo}/dispatches`)
        .map((r) => r.receivedAt)
        .sort((a, b) => a - b);
      // Four processes that each paced only themselves would send about four writes a second, a
      // quarter of a pace interval per write; shared pacing gives about one. Half an interval tells
      // the two apart with room either way, and a loaded machine only stretches the span. No single
      // gap is asserted: timers that fire late make some gaps short and the next ones long.
      const spanPerWrite = (times[times.length - 1] - times[0]) / (times.length - 1);
      expect(spanPerWrite).toBeGreaterThanOrEqual(WRITE_INTERVAL_MS / 2);
    }
  }, 150_000);
});

describe("a relay process killed mid fan-out", () => {
  const repos = ["a/one", "b/two", "c/three", "d/four"];
  let github: FakeGitHub;
  let relays: RelayServer[] = [];

  beforeAll(async () => {
    github = await fakeGitHubWith(repos);
    relays = await startInstances(github, repos, { OUTBOX_LEASE_SECONDS: "4", OUTBOX_DRAIN_INTERVAL_SECONDS: "1" });
  }, 60_000);
  afterAll(async () => {
    await stopInstances(relays);
    await github?.close();
  });

  it("leaves its claimed work to the others once the lease runs out: nothing lost, nothing twice", async () => {
    // The tokens for the last two downstreams come slowly (long enough for a loaded machine to record
    // the first two), so the first process is killed after two
    // dispatches went out and while the other two are claimed but not yet sent.
    const slowMint = /^\/app\/installations\/(23|24)\/access_tokens$/;
    github.delayNext({ method: "POST", path: slowMint, ms: 10_000, times: 2 });
    const [victim] = relays;
    expect(
      (await sendWebhook(victim.baseUrl, { event: "pull_request", payload: prOpened(7), deliveryId: "killed" })).status,
    ).toBe(200);
    await github.waitForCount((r) => sent(r) && deliveryOf(r) === "killed", 2, 30_000);
    await github.waitForCount((r) => slowMint.test(r.path) && r.status === null, 2, 30_000);
    // Sent is not done: until the victim has completed the first two tasks, a kill leaves them to be
    // sent again (at least once, at that edge). Token mints run side by side, so that edge is close.
    await untilOutboxDepth(victim, 2, 30_000);
    await victim.kill();
    const killedAt = Date.now();

    const late = await github.waitForCount(
      (r) => sent(r) && deliveryOf(r) === "killed" && r.receivedAt > killedAt,
      2,
      30_000,
    );
    expect(late.map((r) => r.path).sort()).toEqual(["/repos/c/three/dispatches", "/repos/d/four/dispatches"]);
    await settle(5_000); // longer than the lease: a task still held would be run again now
    const counts = dispatchCounts(github, ["killed"]);
    expect(repos.map((repo) => counts.get(`killed -> /repos/${repo}/dispatches`))).toEqual([1, 1, 1, 1]);
  }, 90_000);
});
