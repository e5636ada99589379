import { expect } from "@jest/globals";
import type { FailureBody } from "../../src/errors/failure-kinds";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { parseJson } from "../support/read-json";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, sendWebhook, type WebhookAnswer } from "../support/webhooks";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: quiet/observer, level: L1 }
`;

/** What SPEC §5 promises every refusal: a JSON body with these fields, and no trace of the code behind it. */
function expectFailureBody(answer: WebhookAnswer, status: number, failureKind: string): void {
  expect({ status: answer.status, failureKind: parseJson<FailureBody>(answer.text).failureKind }).toEqual({
    status,
    failureKind,
  });
  expect(JSON.parse(answer.text)).toMatchObject({ ok: false, runnerDisposition: "business-failed", retryable: false });
  expect(answer.text).not.toMatch(/<html|<pre|\bat [\w.<>]+ \(|node_modules|\/work\//i);
}

const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("webhooks the relay cannot use (validly signed)", () => {
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    relay = await startRelayServer({ fakeGitHub: github, configYaml: CONFIG, readyTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
  });

  it("answers an empty X-GitHub-Event with 400 validation-failed as JSON", async () => {
    const answer = await sendWebhook(relay.baseUrl, { event: "", payload: { zen: "hi" } });
    expectFailureBody(answer, 400, "validation-failed");
  });

  it.each(["null", '""', "0", "-1", '"x"', "[]", "true"])(
    "answers the JSON body %s (not an object) with 400 validation-failed",
    async (rawBody) => {
      const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", rawBody });
      expectFailureBody(answer, 400, "validation-failed");
    },
  );

  it.each([
    ["a string", "eleven"],
    ["a fraction", 1.5],
    ["an object", { id: 11 }],
    ["negative", -3],
  ])("answers an installation.id that is %s with 400", async (_what, id) => {
    const payload = {
      ...pullRequestEvent("opened", { repo: "pytorch/pytorch", installationId: 11 }),
      installation: { id },
    };
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", payload });
    expectFailureBody(answer, 400, "validation-failed");
  });

  it("answers a payload nested 5,000 deep with 400, and one at the documented limit is accepted", async () => {
    const deep = await sendWebhook(relay.baseUrl, { event: "pull_request", rawBody: `{"a":${nested(5_000)}}` });
    expectFailureBody(deep, 400, "validation-failed");
    expect(parseJson<FailureBody>(deep.text).message).toContain("64");
    const atLimit = await sendWebhook(relay.baseUrl, { event: "gollum", rawBody: `{"a":${nested(63)}}` });
    expect(atLimit.status).toBe(200);
  });

  it("answers a wrong content type and missing headers with §5 bodies", async () => {
    const wrongType = await sendWebhook(relay.baseUrl, { event: "push", payload: {}, contentType: "text/plain" });
    expectFailureBody(wrongType, 400, "validation-failed");
    const unsigned = await sendWebhook(relay.baseUrl, { event: "push", payload: {}, signature: null });
    expectFailureBody(unsigned, 400, "validation-failed");
    const forged = await sendWebhook(relay.baseUrl, {
      event: "push",
      payload: {},
      signature: `sha256=${"0".repeat(64)}`,
    });
    expectFailureBody(forged, 400, "validation-failed");
  });

  it("answers unknown routes with a JSON 404", async () => {
    for (const path of ["/nowhere", "/relay/nowhere", "/api/github/webhooks"]) {
      const response = await fetch(relay.url(path));
      expect({ path, status: response.status, type: response.headers.get("content-type") }).toEqual({
        path,
        status: 404,
        type: expect.stringContaining("application/json"),
      });
      expect(await response.json()).toMatchObject({ ok: false, failureKind: "route-not-found" });
    }
  });
});

describe("a delivery whose handling outlasts Probot's 9 s", () => {
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 23, account: "quiet", repos: ["quiet/observer"] });
    relay = await startRelayServer({ fakeGitHub: github, configYaml: CONFIG, readyTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
  });

  it("is never answered 202, which GitHub counts as delivered, before its work is stored", async () => {
    // GitHub slow to answer anything the handling may ask it (the app's slug, say).
    github.delayNext({ path: "/app", ms: 11_000 });
    github.delayNext({ path: "/app/installations/{id}/access_tokens", ms: 11_000 });
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "MEMBER",
    });
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId: "slow-handling" });
    expect(answer.status).not.toBe(202);
    if (answer.status === 200) {
      await github.waitForCount(
        (r) =>
          r.path.endsWith("/dispatches") &&
          (r.body as { client_payload?: { delivery_id?: string } })?.client_payload?.delivery_id === "slow-handling",
        1,
        60_000,
      );
    }
  }, 120_000);
});
