import { loadEnv } from "../../src/config/env";
import { startFakeGitHub, type FakeGitHub, type RecordedRequest } from "../support/fake-github";
import {
  cleanupRedisPrefix,
  startRelayServer,
  uniqueRedisPrefix,
  type LogRecord,
  type RelayServer,
} from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";
import { within } from "../support/within";

/**
 * A relay process that dies or is stopped with outbox work claimed: the work is finished by another
 * process on the same Redis soon after, on the default lease (no test override), and a SIGTERM ends
 * the process promptly even while GitHub hangs, saying nothing after its shutdown line but the last.
 */

const RELAY_TOKEN_SECRET = "lifecycle-relay-token-secret-0123456789abcdef";
const UPSTREAM_INSTALLATION = 11;
const DOWNSTREAM = "vendor/backend";
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: ${DOWNSTREAM}, level: L2 }
`;
/** Longer than any test here: a request held this long is one GitHub never answers. */
const HANG_MS = 10 * 60_000;
const WAIT_MS = 60_000;

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
const dispatchOf = (delivery: string) => (r: RecordedRequest) =>
  r.method === "POST" && r.path === `/repos/${DOWNSTREAM}/dispatches` && deliveryOf(r) === delivery;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a relay process that goes away with outbox work claimed", () => {
  let github: FakeGitHub;
  const relays: RelayServer[] = [];
  const prefixes = new Set<string>();

  beforeEach(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 21, account: "vendor", repos: [DOWNSTREAM] });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.kill()));
    await github.close();
    for (const prefix of prefixes) await cleanupRedisPrefix(prefix);
    prefixes.clear();
  });

  async function start(redisPrefix: string): Promise<RelayServer> {
    prefixes.add(redisPrefix);
    const relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      redisPrefix,
      logLevel: "info",
      env: { RELAY_TOKEN_SECRET },
    });
    relays.push(relay);
    return relay;
  }

  it("the default outbox lease is short: work a dead process claimed is not stranded for minutes", () => {
    expect(loadEnv({}).outboxLeaseSeconds).toBeLessThanOrEqual(20);
  });

  it(
    "SIGKILLed mid-dispatch: a second process sends the claimed dispatch, once",
    async () => {
      const redisPrefix = uniqueRedisPrefix();
      const victim = await start(redisPrefix);
      // The downstream token never comes: the dispatch is claimed and in flight when the process dies.
      github.delayNext({ method: "POST", path: "/app/installations/21/access_tokens", ms: HANG_MS });
      expect(
        (await sendWebhook(victim.baseUrl, { event: "pull_request", payload: prOpened(1), deliveryId: "killed" }))
          .status,
      ).toBe(200);
      await github.waitFor((r) => r.path === "/app/installations/21/access_tokens" && r.status === null, WAIT_MS);
      await victim.kill();

      await start(redisPrefix);
      const [sent] = await github.waitForCount((r) => dispatchOf("killed")(r) && r.status === 204, 1, WAIT_MS);
      expect(sent.status).toBe(204);
      await settle(2_000); // room for a wrong second dispatch to show
      expect(github.requests.filter(dispatchOf("killed"))).toHaveLength(1);
    },
    3 * WAIT_MS,
  );

  it(
    "SIGTERM while GitHub hangs: exits at once with code 0, says nothing after shutting down but its last line, and another process sends the dispatch",
    async () => {
      const redisPrefix = uniqueRedisPrefix();
      const stopping = await start(redisPrefix);
      // Every dispatch write hangs, as would a GitHub that stopped answering.
      github.delayNext({ method: "POST", path: `/repos/${DOWNSTREAM}/dispatches`, ms: HANG_MS, times: 1 });
      expect(
        (await sendWebhook(stopping.baseUrl, { event: "pull_request", payload: prOpened(2), deliveryId: "stopped" }))
          .status,
      ).toBe(200);
      await github.waitFor((r) => dispatchOf("stopped")(r) && r.status === null, WAIT_MS);

      const exit = await within(stopping.terminate(), WAIT_MS, "the relay exited after SIGTERM");
      expect(exit).toEqual({ code: 0, signal: null });
      const records = stopping.logRecords();
      const shutdownLine = records.findIndex((r) => r.msg === "SIGTERM: shutting down");
      expect(shutdownLine).toBeGreaterThanOrEqual(0);
      const after = records.slice(shutdownLine + 1).map((r: LogRecord) => r.msg);
      expect(after).toEqual(["shut down"]);

      await start(redisPrefix);
      const [sent] = await github.waitForCount((r) => dispatchOf("stopped")(r) && r.status === 204, 1, WAIT_MS);
      expect(sent.status).toBe(204);
    },
    3 * WAIT_MS,
  );
});
