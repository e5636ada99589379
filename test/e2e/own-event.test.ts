import { TEST_APP_SLUG } from "../support/app-key";
import { slugStored } from "../support/app-slug-stored";
import { sentDispatch, startFakeGitHub, type FakeGitHub, type RecordedRequest } from "../support/fake-github";
import { cleanupRedisPrefix, startRelayServer, uniqueRedisPrefix, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook, type WebhookAnswer } from "../support/webhooks";

/**
 * Issue 9 defect 4: every webhook waited on `GET /app` (the slug for the own-event check), so a slow
 * GitHub made every answer slow. The answer must never wait on GitHub; own events are still ignored
 * once the slug is known, here or through the store.
 */

const RELAY_TOKEN_SECRET = "own-event-relay-token-secret-0123456789ab";
const UPSTREAM_INSTALLATION = 11;
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;
const BOT = `${TEST_APP_SLUG}[bot]`;

const dispatchOf = (deliveryId: string) => sentDispatch("vendor/backend", deliveryId);
const isAppRead = (request: RecordedRequest) => request.method === "GET" && request.path === "/app";

async function fakeGitHub(): Promise<FakeGitHub> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
  github.addInstallation({ id: 21, account: "vendor", repos: ["vendor/backend"] });
  return github;
}

/** A hung answer fails the test (after 30 s) instead of waiting as long as GitHub hangs. */
async function deliver(relay: RelayServer, deliveryId: string, sender = "octocat"): Promise<WebhookAnswer> {
  const payload = pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    headSha: randomSha(),
    sender,
  });
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to ${deliveryId} within 30 s`)), 30_000);
  });
  try {
    return await Promise.race([sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId }), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const start = (github: FakeGitHub, redisPrefix: string) =>
  startRelayServer({
    fakeGitHub: github,
    configYaml: CONFIG,
    redisPrefix,
    logLevel: "warn",
    env: { RELAY_TOKEN_SECRET },
  });

describe("the own-event check never holds a webhook's answer", () => {
  const redisPrefix = uniqueRedisPrefix();
  let github: FakeGitHub;
  const relays: RelayServer[] = [];

  beforeAll(async () => {
    github = await fakeGitHub();
  });
  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await cleanupRedisPrefix(redisPrefix);
    await github?.close();
  });

  it("answers and relays while GET /app hangs", async () => {
    github.delayNext({ method: "GET", path: "/app", ms: 600_000, times: 1_000 });
    const relay = await start(github, redisPrefix);
    relays.push(relay);

    expect((await deliver(relay, "while-app-hangs")).status).toBe(200);
    expect(github.requests.filter(isAppRead).every((request) => request.status === null)).toBe(true);
    await github.waitFor(dispatchOf("while-app-hangs"), 30_000);
    await relay.stop(); // one fake GitHub per process at a time: the outbox is shared through the prefix
  }, 90_000);

  it("ignores the app's own events once the slug is known, and shares it with other processes", async () => {
    const other = await fakeGitHub();
    try {
      // A GitHub that answers: the relay learns the slug in the background and keeps it in the store.
      const learner = await start(other, redisPrefix);
      relays.push(learner);
      await slugStored(redisPrefix);
      expect((await deliver(learner, "by-the-app", BOT)).status).toBe(200);
      expect((await deliver(learner, "by-a-person")).status).toBe(200);
      await other.waitFor(dispatchOf("by-a-person"), 30_000);
      expect(other.requests.filter(dispatchOf("by-the-app"))).toEqual([]);
      await learner.stop();
    } finally {
      await other.close();
    }

    // The first GitHub still hangs GET /app: a process started on it knows the slug from the store.
    const reader = await start(github, redisPrefix);
    relays.push(reader);
    expect((await deliver(reader, "by-the-app-again", BOT)).status).toBe(200);
    expect((await deliver(reader, "by-a-person-again")).status).toBe(200);
    await github.waitFor(dispatchOf("by-a-person-again"), 30_000);
    expect(github.requests.filter(dispatchOf("by-the-app-again"))).toEqual([]);
  }, 120_000);
});
