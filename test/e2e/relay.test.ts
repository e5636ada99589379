import { clientPayloadOf, dispatchedPayload, startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { keys } from "../../src/records/keys";
import { openRedisCluster } from "../../src/store/open-redis-cluster";
import { RedisStore } from "../../src/store/redis-store";
import { startOwnRedisCluster } from "../support/own-redis-cluster";
import { testRedisUrl } from "../support/redis-prefix";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, pushEvent, randomSha, sendWebhook, sign } from "../support/webhooks";

const RELAY_TOKEN_SECRET = "relay-token-secret-for-tests-0123456789abcdef";

const NATIVE_CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
push: { branches: [main] }
downstreams:
  - { repo: Ascend/pytorch, level: L3, device: npu }
  - { repo: vendor/backend, level: L2 }
  - { repo: quiet/observer, level: L1 }
  - { repo: strict/gate, level: L4 }
`;

const CRCR_ALLOWLIST = `
L1:
  - quiet/observer
L2:
  - VENDOR/Backend: "alice, bob"
L3:
  npu:
    ascend/PyTorch: [carol]
L4:
  - strict/gate
`;

const DOWNSTREAMS = ["Ascend/pytorch", "vendor/backend", "quiet/observer", "strict/gate"];
const UPSTREAM_INSTALLATION = 11;

async function setUpGitHub(): Promise<FakeGitHub> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
  github.addInstallation({ id: 21, account: "Ascend", repos: ["Ascend/pytorch"] });
  github.addInstallation({ id: 22, account: "vendor", repos: ["vendor/backend"] });
  github.addInstallation({ id: 23, account: "quiet", repos: ["quiet/observer"] });
  github.addInstallation({ id: 24, account: "strict", repos: ["strict/gate"] });
  return github;
}

const prOpened = (overrides: Partial<Parameters<typeof pullRequestEvent>[1]> = {}) =>
  pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    ...overrides,
  });

/** Where the relay keeps its state: the shared test Redis, or a Redis Cluster of the suite's own. */
interface RedisBackend {
  env: Record<string, string>;
  /** a store over the relay's keys, as the relay sees them */
  store(prefix: string): RedisStore;
  stop(): Promise<void>;
}

const sharedRedis = async (): Promise<RedisBackend> => ({
  env: {},
  store: (prefix) => new RedisStore(testRedisUrl(), prefix),
  stop: async () => undefined,
});

async function ownRedisCluster(): Promise<RedisBackend> {
  const cluster = await startOwnRedisCluster();
  return {
    env: { REDIS_URL: cluster.url, REDIS_CLUSTER: "true" },
    store: (prefix) => new RedisStore(openRedisCluster(cluster.url), prefix),
    stop: () => cluster.stop(),
  };
}

describe.each([
  ["Redis", sharedRedis],
  ["a 3-master Redis Cluster", ownRedisCluster],
])("relay end to end (real server, fake GitHub, %s)", (_, startBackend) => {
  let github: FakeGitHub;
  let relay: RelayServer;
  let backend: RedisBackend;

  beforeAll(async () => {
    backend = await startBackend();
    github = await setUpGitHub();
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: NATIVE_CONFIG,
      env: { RELAY_TOKEN_SECRET, ...backend.env },
    });
  }, 120_000);
  afterAll(async () => {
    if (process.env.DEBUG_RELAY)
      console.log(
        relay
          .logs()
          .split("\n")
          .filter((l) => /warn|error|"level":[45]0/.test(l))
          .slice(0, 8)
          .join("\n"),
      );
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
    await backend?.stop();
  });

  it("dispatches a PR to every downstream with the SPEC client_payload", async () => {
    const event = prOpened({ number: 4242, headSha: randomSha() });
    const answer = await sendWebhook(relay.baseUrl, {
      event: "pull_request",
      payload: event,
      deliveryId: "pr-delivery-1",
    });
    expect(answer.status).toBe(200);
    await github.waitForCount(
      (r) => r.method === "POST" && r.path.endsWith("/dispatches") && r.status === 204,
      4,
      30_000,
    );
    const sent = DOWNSTREAMS.map((repo) => github.dispatches(repo));
    for (const dispatches of sent) expect(dispatches).toHaveLength(1);
    const [dispatch] = github.dispatches("vendor/backend");
    const body = { event_type: dispatch.eventType, client_payload: dispatchedPayload(dispatch) };
    expect(body.event_type).toBe("pull_request");
    expect(body.client_payload.event_type).toBe("pull_request");
    expect(body.client_payload.delivery_id).toBe("pr-delivery-1");
    expect(body.client_payload.payload.number).toBe(4242);
    expect(body.client_payload.relay).toMatchObject({
      schema: "ci-relay.dispatch.v1",
      level: "L2",
      upstream: {
        repo: "pytorch/pytorch",
        sha: event.pull_request.head.sha,
        ref: "refs/pull/4242/head",
        pr_number: 4242,
      },
      callback_url: `${relay.baseUrl}/relay/v1/callback`,
    });
    expect(body.client_payload.relay.callback_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The server logs at debug level here; wait until it has logged this dispatch before looking.
    await relay.waitForLog((r) => r.msg === "dispatched" && r.requestId === body.client_payload.relay.request_id);
    expect(relay.logs()).not.toContain(body.client_payload.relay.callback_token);
  });

  it("scopes each dispatch token to its one downstream with contents:write", async () => {
    const tokens = github.issuedTokens().filter((t) => t.repositories?.includes("vendor/backend"));
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect(token.repositories).toEqual(["vendor/backend"]);
      expect(token.permissions).toEqual({ contents: "write" });
    }
  });

  it("relays a redelivered webhook once per downstream, sequentially and concurrently", async () => {
    const event = prOpened({ number: 7, headSha: randomSha() });
    const deliveryId = "redelivered-1";
    for (let i = 0; i < 5; i++) {
      expect((await sendWebhook(relay.baseUrl, { event: "pull_request", payload: event, deliveryId })).status).toBe(
        200,
      );
    }
    const concurrent = prOpened({ number: 8, headSha: randomSha() });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        sendWebhook(relay.baseUrl, { event: "pull_request", payload: concurrent, deliveryId: "redelivered-2" }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    for (const delivery of ["redelivered-1", "redelivered-2"]) {
      await github.waitForCount(
        (r) => r.path.endsWith("/dispatches") && clientPayloadOf(r)?.delivery_id === delivery && r.status === 204,
        4,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // give a wrongly duplicated dispatch time to show
    for (const delivery of ["redelivered-1", "redelivered-2"]) {
      for (const repo of DOWNSTREAMS) {
        const count = github.dispatches(repo).filter((d) => dispatchedPayload(d).delivery_id === delivery).length;
        expect(count).toBe(1);
      }
    }
  });

  it("stores a delivery's payload as the very text GitHub signed, and dispatches it parsed", async () => {
    const event = prOpened({ number: 4343, headSha: randomSha(), title: "caf\u00e9" });
    // Indented, and with an escape JSON.stringify would not write: a re-encoded payload would differ.
    const rawBody = JSON.stringify(event, null, 2).replace("café", "caf\\u00e9");
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", rawBody, deliveryId: "as-signed-1" });
    expect(answer.status).toBe(200);
    const store = backend.store(relay.redisPrefix);
    try {
      expect(await store.get(keys.deliveries.payload("as-signed-1"))).toBe(rawBody);
    } finally {
      await store.close();
    }
    const [dispatch] = await github.waitForCount(
      (r) =>
        r.path === "/repos/vendor/backend/dispatches" &&
        r.status === 204 &&
        (r.body as { client_payload?: { delivery_id?: string } })?.client_payload?.delivery_id === "as-signed-1",
      1,
      30_000,
    );
    expect(JSON.stringify(dispatch.body)).toContain('"title":"café"');
  });

  it("refuses a bad or missing signature with 400 and dispatches nothing", async () => {
    const before = github.requests.length;
    const event = prOpened({ number: 9, headSha: randomSha() });
    const forgedSignature = sign(JSON.stringify(event), "wrong-secret");
    const forged = await sendWebhook(relay.baseUrl, {
      event: "pull_request",
      payload: event,
      signature: forgedSignature,
    });
    const missing = await sendWebhook(relay.baseUrl, { event: "pull_request", payload: event, signature: null });
    expect(forged.status).toBe(400);
    expect(missing.status).toBe(400);
    expect(relay.logs()).not.toContain(forgedSignature);
    expect(relay.logs()).not.toContain(sign(JSON.stringify(event), relay.webhookSecret));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only this event's commit: an earlier test's dispatches may still be arriving.
    const ofThisEvent = (r: { path: string; body: unknown }) =>
      r.path.endsWith("/dispatches") && JSON.stringify(r.body).includes(event.pull_request.head.sha);
    expect(github.requests.slice(before).filter(ofThisEvent)).toHaveLength(0);
  });

  it("answers malformed, mistyped and oversized bodies with a 4xx and stores nothing", async () => {
    const before = github.requests.length;
    const malformed = await sendWebhook(relay.baseUrl, {
      event: "pull_request",
      rawBody: "{not json",
      deliveryId: "malformed",
    });
    expect(malformed.status).toBe(400);
    const event = prOpened({ headSha: randomSha() });
    const wrongType = await sendWebhook(relay.baseUrl, {
      event: "pull_request",
      payload: event,
      contentType: "text/plain",
    });
    expect(wrongType.status).toBe(400); // SPEC §5 validation-failed: its table has no 415
    const huge = await fetch(relay.url("/api/github/webhooks"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "huge",
        "x-hub-signature-256": "sha256=00",
      },
      body: JSON.stringify({ padding: "x".repeat(26 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const unknownEvent = await sendWebhook(relay.baseUrl, { event: "gollum", payload: { pages: [] } });
    expect(unknownEvent.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only this event's commit: an earlier test's dispatches may still be arriving.
    const ofThisEvent = (r: { path: string; body: unknown }) =>
      r.path.endsWith("/dispatches") && JSON.stringify(r.body).includes(event.pull_request.head.sha);
    expect(github.requests.slice(before).filter(ofThisEvent)).toHaveLength(0);
  });

  it("relays pushes to configured branches but not deletions or other branches", async () => {
    const main = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/heads/main",
      after: randomSha(),
    });
    const other = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/heads/feature",
      after: randomSha(),
    });
    const deletion = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/heads/main",
      after: "0".repeat(40),
    });
    for (const [payload, deliveryId] of [
      [main, "push-main"],
      [other, "push-other"],
      [deletion, "push-delete"],
    ] as const) {
      expect((await sendWebhook(relay.baseUrl, { event: "push", payload, deliveryId })).status).toBe(200);
    }
    await github.waitForCount(
      (r) => r.path.endsWith("/dispatches") && clientPayloadOf(r)?.delivery_id === "push-main" && r.status === 204,
      4,
    );
    const [dispatch] = github.dispatches("strict/gate").filter((d) => dispatchedPayload(d).delivery_id === "push-main");
    expect(dispatchedPayload(dispatch).relay.upstream).toEqual({
      repo: "pytorch/pytorch",
      sha: main.after,
      ref: "refs/heads/main",
      pr_number: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const others = github.requests.filter((r) =>
      ["push-other", "push-delete"].includes(clientPayloadOf(r)?.delivery_id ?? ""),
    );
    expect(others).toHaveLength(0);
  });

  it("holds back an untrusted author's PR", async () => {
    const event = prOpened({ authorAssociation: "FIRST_TIME_CONTRIBUTOR", number: 31 });
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload: event, deliveryId: "untrusted" })).status,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(github.requests.filter((r) => clientPayloadOf(r)?.delivery_id === "untrusted")).toHaveLength(0);
  });

  it("waits out a secondary rate limit for retry-after and dispatches once", async () => {
    const isOurs = (r: (typeof github.requests)[number]) =>
      r.path === "/repos/strict/gate/dispatches" && clientPayloadOf(r)?.delivery_id === "secondary";
    github.failNext({
      method: "POST",
      path: "/repos/strict/gate/dispatches",
      status: 403,
      headers: { "retry-after": "1" },
      body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." },
      where: isOurs,
    });
    const event = prOpened({ number: 56, headSha: randomSha() });
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload: event, deliveryId: "secondary" })).status,
    ).toBe(200);
    await github.waitFor((r) => isOurs(r) && r.status === 204, 30_000);
    const attempts = github.requests.filter(isOurs);
    expect(attempts.map((r) => r.status)).toEqual([403, 204]);
    // The wait itself is plugin-throttling's; what the relay decides is to retry after GitHub's retry-after.
    expect(relay.logRecords()).toContainEqual(
      expect.objectContaining({ msg: "GitHub rate limit", kind: "secondary", retryAfter: 1, retry: true }),
    );
    const metrics = await (await fetch(relay.url("/relay/metrics"))).text();
    expect(metrics).toMatch(/ci_relay_github_rate_limit_waits_total\{kind="secondary"\} [1-9]/);
  });

  it("retries a dispatch GitHub fails, and dispatches it once", async () => {
    const isFlaky = (r: (typeof github.requests)[number]) =>
      r.path === "/repos/vendor/backend/dispatches" && clientPayloadOf(r)?.delivery_id === "flaky";
    github.failNext({
      method: "POST",
      path: "/repos/vendor/backend/dispatches",
      status: 502,
      times: 2,
      where: isFlaky,
    });
    const event = prOpened({ number: 55, headSha: randomSha() });
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload: event, deliveryId: "flaky" })).status,
    ).toBe(200);
    await github.waitFor((r) => isFlaky(r) && r.status === 204, 30_000);
    expect(github.requests.filter(isFlaky).map((r) => r.status)).toEqual([502, 502, 204]);
  });
});

describe("relay with a CRCR allowlist", () => {
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    github = await setUpGitHub();
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CRCR_ALLOWLIST,
      env: { RELAY_TOKEN_SECRET, UPSTREAM_REPO: "PyTorch/pytorch", REDIS_URL: undefined },
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await github?.close();
  });

  it("dispatches to L1-L4 with names matched case-insensitively, pushes to any branch, no trust gating", async () => {
    const pr = prOpened({ authorAssociation: "NONE", number: 77 });
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload: pr, deliveryId: "crcr-pr" })).status,
    ).toBe(200);
    const push = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/heads/gh/someone/3/head",
      after: randomSha(),
    });
    expect((await sendWebhook(relay.baseUrl, { event: "push", payload: push, deliveryId: "crcr-push" })).status).toBe(
      200,
    );
    for (const delivery of ["crcr-pr", "crcr-push"]) {
      await github.waitForCount(
        (r) => r.path.endsWith("/dispatches") && clientPayloadOf(r)?.delivery_id === delivery && r.status === 204,
        4,
      );
    }
    const levels = Object.fromEntries(
      DOWNSTREAMS.map((repo) => [repo, dispatchedPayload(github.dispatches(repo)[0]).relay.level]),
    );
    expect(levels).toEqual({
      "Ascend/pytorch": "L3",
      "vendor/backend": "L2",
      "quiet/observer": "L1",
      "strict/gate": "L4",
    });
  });

  it("reports the memory store in health", async () => {
    const health = await (await fetch(relay.url("/relay/health"))).json();
    expect(health).toMatchObject({
      ok: true,
      service: "ci-relay",
      store: { kind: "memory", ok: true },
      github: { valuesPrinted: false },
    });
  });
});
