import { sentDispatch, startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { startOwnRedis, type OwnRedis } from "../support/own-redis";
import { startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook, type WebhookAnswer } from "../support/webhooks";

/**
 * Issue 9 defect 1: Bottleneck's Redis datastore never re-initialised once its keys were gone (a
 * Redis restarted without persistence, or flushed), and every GitHub write waited on it for ever.
 * Here the relay runs on a Redis of the test's own, which is restarted empty and then flushed while
 * the relay keeps running; dispatches must go on.
 */

const RELAY_TOKEN_SECRET = "redis-loss-relay-token-secret-0123456789";
const UPSTREAM_INSTALLATION = 11;
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;

const sentFor = (deliveryId: string) => sentDispatch("vendor/backend", deliveryId);

/** Redis may still be coming back: the webhook then answers 503 and GitHub would redeliver, as here. */
async function deliverUntilAccepted(relay: RelayServer, deliveryId: string, number: number): Promise<WebhookAnswer> {
  const payload = pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    number,
    headSha: randomSha(),
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId });
    if (answer.status === 200 || Date.now() > deadline) return answer;
    await new Promise((done) => setTimeout(done, 250));
  }
}

describe("GitHub writes after the relay's Redis lost every key", () => {
  let redis: OwnRedis;
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    redis = await startOwnRedis({ persistence: false });
    github = await startFakeGitHub();
    github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 21, account: "vendor", repos: ["vendor/backend"] });
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      logLevel: "warn",
      env: { RELAY_TOKEN_SECRET, REDIS_URL: redis.url, OUTBOX_DRAIN_INTERVAL_SECONDS: "1" },
    });
  }, 60_000);
  afterAll(async () => {
    await relay?.stop();
    await github?.close();
    await redis?.stop();
  });

  it("dispatches before, after a restart without persistence, and after a flush", async () => {
    expect((await deliverUntilAccepted(relay, "before", 1)).status).toBe(200);
    await github.waitFor(sentFor("before"), 30_000);

    await redis.restart({ persistence: false });
    expect((await deliverUntilAccepted(relay, "after-restart", 2)).status).toBe(200);
    await github.waitFor(sentFor("after-restart"), 60_000);

    await redis.flushAll();
    expect((await deliverUntilAccepted(relay, "after-flush", 3)).status).toBe(200);
    await github.waitFor(sentFor("after-flush"), 60_000);
  }, 240_000);
});
