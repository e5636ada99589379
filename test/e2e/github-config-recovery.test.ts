import { sentDispatch, startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";

/**
 * Issue 9 defect 5: a `github:` config source that failed for a while and then recovered answered
 * webhooks 503 meanwhile (right), but the first PR after it loaded was not dispatched.
 */

const RELAY_TOKEN_SECRET = "config-recovery-relay-token-secret-012345";
const UPSTREAM_INSTALLATION = 11;
const CONFIG_PATH = ".github/relay.yml";
const CONTENTS = /^\/repos\/pytorch\/pytorch\/contents\//;
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;

const dispatchOf = (deliveryId: string) => sentDispatch("vendor/backend", deliveryId);
const prOpened = () =>
  pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    headSha: randomSha(),
  });

describe("a github: config source that fails for a while, then recovers", () => {
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 21, account: "vendor", repos: ["vendor/backend"] });
    github.setFile("pytorch/pytorch", CONFIG_PATH, CONFIG);
    github.failNext({ method: "GET", path: CONTENTS, status: 502, times: 1_000 });
  });
  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
  });

  it("answers 503 while the config cannot be read, and relays the first PR once it can", async () => {
    relay = await startRelayServer({
      fakeGitHub: github,
      logLevel: "warn",
      // Not ready (health 503) until the config loads, which is what this test holds back.
      waitFor: "serving",
      readyTimeoutMs: 60_000,
      env: { RELAY_TOKEN_SECRET, RELAY_CONFIG: `github:pytorch/pytorch/${CONFIG_PATH}@main` },
    });
    await github.waitForCount((r) => r.method === "GET" && CONTENTS.test(r.path) && r.status === 502, 2, 60_000);
    // Not 202 after Probot's 9 s timeout with the delivery then lost: the answer never waits on the read.
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload: prOpened(), deliveryId: "while-failing" }))
        .status,
    ).toBe(503);

    github.clearFailures();
    // GitHub redelivers a 503; here the test does, until the relay has noticed the source is back.
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (
        await sendWebhook(relay.baseUrl, { event: "pull_request", payload: prOpened(), deliveryId: "first-after" })
      ).status;
      if (status !== 200) await new Promise((done) => setTimeout(done, 250));
    }
    expect(status).toBe(200);
    await github.waitFor(dispatchOf("first-after"), 30_000);
    expect(github.requests.filter(dispatchOf("while-failing"))).toEqual([]);
  }, 180_000);
});
