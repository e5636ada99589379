import { randomUUID } from "node:crypto";
import { expect } from "@jest/globals";
import { TEST_APP_SLUG } from "../support/app-key";
import { slugStored } from "../support/app-slug-stored";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, pushEvent, randomSha, sendWebhook } from "../support/webhooks";

/**
 * Issue 14 "Why not?": for every verified delivery, `GET /relay/v1/deliveries/{id}` names every
 * configured downstream with what happened to it, in config order, and `?pr=N` lists a PR's
 * deliveries in the order they arrived.
 */

const RELAY_TOKEN_SECRET = "deliveries-relay-token-secret-0123456789ab";
const UPSTREAM_INSTALLATION = 11;
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
push: { branches: [main] }
pull_request: { trust_label: ciflow/relay/ok-to-test }
downstreams:
  - { repo: Ascend/pytorch, level: L3, device: npu }
  - { repo: vendor/backend, level: L2 }
  - { repo: pr/only, level: L1, events: [pull_request] }
`;
const DOWNSTREAMS = ["Ascend/pytorch", "vendor/backend", "pr/only"];

interface DownstreamAnswer {
  repo: string;
  level: string;
  outcome: string;
  reason: string | null;
  detail: string | null;
  dispatchId: string | null;
  attempts: number | null;
}
interface DeliveryAnswer {
  deliveryId: string;
  event: string;
  receivedAt: string;
  upstream: { repo: string; sha: string; ref: string; pr_number: number | null };
  downstreams: DownstreamAnswer[];
}

describe("GET /relay/v1/deliveries (real server, fake GitHub, Redis)", () => {
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 21, account: "Ascend", repos: ["Ascend/pytorch"] });
    github.addInstallation({ id: 22, account: "vendor", repos: ["vendor/backend"] });
    github.addInstallation({ id: 23, account: "pr", repos: ["pr/only"] });
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: { RELAY_TOKEN_SECRET },
      readyTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
  });

  type Association = NonNullable<Parameters<typeof pullRequestEvent>[1]["authorAssociation"]>;
  const pr = (
    action: "opened" | "synchronize" | "labeled",
    number: number,
    authorAssociation: Association = "MEMBER",
    sender?: string,
  ) =>
    pullRequestEvent(action, {
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      number,
      authorAssociation,
      headSha: randomSha(),
      label: "bug",
      sender,
    });

  async function deliver(event: string, payload: unknown): Promise<string> {
    const deliveryId = randomUUID();
    expect((await sendWebhook(relay.baseUrl, { event, payload, deliveryId })).status).toBe(200);
    return deliveryId;
  }

  async function explained(deliveryId: string): Promise<DeliveryAnswer> {
    const response = await fetch(relay.url(`/relay/v1/deliveries/${deliveryId}`));
    expect(response.status).toBe(200);
    return (await response.json()) as DeliveryAnswer;
  }

  /**
   * Polls until `ready` holds for the delivery's explanation (dispatches are sent after the answer;
   * a failing one only after Octokit's own retries).
   */
  async function explainedWhen(
    deliveryId: string,
    ready: (answer: DeliveryAnswer) => boolean,
  ): Promise<DeliveryAnswer> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answer = await explained(deliveryId);
      if (ready(answer)) return answer;
      if (Date.now() > deadline)
        throw new Error(`delivery ${deliveryId} never got there: ${JSON.stringify(answer.downstreams)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const outcomes = (answer: DeliveryAnswer) => answer.downstreams.map((d) => [d.repo, d.outcome, d.reason]);

  it("a push to a branch that is not relayed shows branch-not-relayed for every downstream", async () => {
    const payload = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/heads/feature/x",
      after: randomSha(),
    });
    const id = await deliver("push", payload);
    const answer = await explained(id);
    expect(answer).toMatchObject({
      deliveryId: id,
      event: "push",
      upstream: { repo: "pytorch/pytorch", sha: payload.after, ref: "refs/heads/feature/x", pr_number: null },
    });
    expect(outcomes(answer)).toEqual(DOWNSTREAMS.map((repo) => [repo, "skipped", "branch-not-relayed"]));
    expect(Number.isNaN(Date.parse(answer.receivedAt))).toBe(false);
  });

  it("an untrusted author's PR shows untrusted-author, waiting for the trust label", async () => {
    const id = await deliver("pull_request", pr("opened", 301, "FIRST_TIME_CONTRIBUTOR"));
    const answer = await explained(id);
    expect(outcomes(answer)).toEqual(DOWNSTREAMS.map((repo) => [repo, "skipped", "untrusted-author"]));
    expect(answer.downstreams[0].detail).toContain("waiting for the label ciflow/relay/ok-to-test");
  });

  it("a relayed PR shows each dispatch with its dispatchId, an L3 without its label as label-missing, and a push-only skip", async () => {
    const id = await deliver("pull_request", pr("opened", 302));
    const answer = await explainedWhen(id, (a) => a.downstreams.every((d) => d.outcome === "dispatched"));
    expect(outcomes(answer)).toEqual([
      ["Ascend/pytorch", "dispatched", "label-missing"],
      ["vendor/backend", "dispatched", null],
      ["pr/only", "dispatched", null],
    ]);
    for (const downstream of answer.downstreams) {
      const [sent] = github
        .dispatches(downstream.repo)
        .filter((d) => (d.clientPayload as { delivery_id: string }).delivery_id === id);
      expect((sent.clientPayload as { relay: { request_id: string } }).relay.request_id).toBe(downstream.dispatchId);
    }
    expect(answer.upstream).toMatchObject({ ref: "refs/pull/302/head", pr_number: 302 });
  });

  it("a push to a relayed branch skips the downstream that takes only PRs as event-not-wanted", async () => {
    const id = await deliver(
      "push",
      pushEvent({
        repo: "pytorch/pytorch",
        installationId: UPSTREAM_INSTALLATION,
        ref: "refs/heads/main",
        after: randomSha(),
      }),
    );
    const answer = await explainedWhen(id, (a) => a.downstreams.filter((d) => d.outcome === "dispatched").length === 2);
    expect(outcomes(answer)).toEqual([
      ["Ascend/pytorch", "dispatched", null],
      ["vendor/backend", "dispatched", null],
      ["pr/only", "skipped", "event-not-wanted"],
    ]);
  });

  it("a dispatch GitHub keeps failing shows retrying with its last error", async () => {
    github.failNext({ method: "POST", path: "/repos/vendor/backend/dispatches", status: 502, times: 1000 });
    try {
      const id = await deliver("pull_request", pr("opened", 303));
      const answer = await explainedWhen(id, (a) => a.downstreams[1].outcome === "retrying");
      expect(answer.downstreams[1]).toMatchObject({
        repo: "vendor/backend",
        outcome: "retrying",
        dispatchId: expect.any(String),
      });
      expect(answer.downstreams[1].reason).toContain("502");
      expect(answer.downstreams[1].attempts).toBeGreaterThanOrEqual(1);
    } finally {
      github.clearFailures();
    }
  });

  it("a dispatch GitHub refuses for good shows failed with the reason", async () => {
    github.failNext({ method: "POST", path: "/repos/pr/only/dispatches", status: 404, times: 1000 });
    try {
      const id = await deliver("pull_request", pr("opened", 306));
      const answer = await explainedWhen(id, (a) => a.downstreams[2].outcome === "failed");
      expect(answer.downstreams[2]).toMatchObject({
        repo: "pr/only",
        outcome: "failed",
        reason: expect.stringContaining("404"),
      });
      expect(answer.downstreams[1].outcome).not.toBe("failed");
    } finally {
      github.clearFailures();
    }
  });

  it("?upstream=&pr= lists every delivery of a PR in the order the relay received them", async () => {
    const ids = [
      await deliver("pull_request", pr("opened", 304)),
      await deliver("pull_request", pr("labeled", 304)),
      await deliver("pull_request", pr("synchronize", 304)),
    ];
    await deliver("pull_request", pr("opened", 305)); // another PR: not listed
    const response = await fetch(relay.url("/relay/v1/deliveries?upstream=pytorch/pytorch&pr=304"));
    expect(response.status).toBe(200);
    const { deliveries } = (await response.json()) as { deliveries: DeliveryAnswer[] };
    expect(deliveries.map((d) => d.deliveryId)).toEqual(ids);
    expect(deliveries[1].downstreams.map((d) => d.reason)).toEqual([
      "action-not-relayed",
      "action-not-relayed",
      "action-not-relayed",
    ]);
  });

  it("the app's own event shows own-event for every downstream", async () => {
    await slugStored(relay.redisPrefix);
    const id = await deliver("pull_request", pr("opened", 307, "MEMBER", `${TEST_APP_SLUG}[bot]`));
    expect(outcomes(await explained(id))).toEqual(DOWNSTREAMS.map((repo) => [repo, "skipped", "own-event"]));
  });

  it("/relay/deliveries/{id} shows the same as a page without scripts, under the dashboard's policy", async () => {
    const id = await deliver(
      "push",
      pushEvent({
        repo: "pytorch/pytorch",
        installationId: UPSTREAM_INSTALLATION,
        ref: "refs/heads/<script>x",
        after: randomSha(),
      }),
    );
    const page = await fetch(relay.url(`/relay/deliveries/${id}`));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("branch-not-relayed");
    expect(html).toContain("refs/heads/&lt;script&gt;x");
    expect(html).not.toMatch(/<script/i);
    const unknown = await fetch(relay.url(`/relay/deliveries/${randomUUID()}`));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/^no-dispatch: /);
  });

  it("an unknown delivery is a SPEC §5 404, an id that is not a GitHub delivery id a 400", async () => {
    const unknown = await fetch(relay.url(`/relay/v1/deliveries/${randomUUID()}`));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ ok: false, failureKind: "no-dispatch", retryable: false });
    for (const bad of ["not-a-uuid", "%3Cscript%3E", "..%2F..%2Fhealth"]) {
      const answer = await fetch(relay.url(`/relay/v1/deliveries/${bad}`));
      expect(answer.status).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/application\/json/);
      expect(await answer.json()).toMatchObject({ ok: false, failureKind: "validation-failed" });
    }
    const badQuery = await fetch(relay.url("/relay/v1/deliveries?pr=abc&upstream=pytorch/pytorch"));
    expect(badQuery.status).toBe(400);
  });
});
