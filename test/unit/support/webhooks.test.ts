import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot } from "probot";
import { TEST_APP_ID, testAppCredentials } from "../../support/app-key";
import {
  checkRunRerequestedEvent,
  pullRequestEvent,
  pushEvent,
  sendWebhook,
  sign,
  TEST_WEBHOOK_SECRET,
} from "../../support/webhooks";

const target = { repo: "pytorch/pytorch", installationId: 5 };

describe("webhook deliveries", () => {
  let server: Server;
  let baseUrl: string;
  let received: { name: string; payload: unknown }[];

  beforeEach(async () => {
    // @octokit/webhooks reports refused deliveries on the console; refusing them is the point here.
    jest.spyOn(console, "error").mockImplementation(() => undefined);
    received = [];
    const probot = new Probot({
      appId: testAppCredentials().appId,
      privateKey: testAppCredentials().privateKeyPem,
      secret: TEST_WEBHOOK_SECRET,
      logLevel: "fatal",
    });
    const middleware = createNodeMiddleware(
      (app) => {
        app.onAny((event) => {
          received.push({ name: event.name, payload: event.payload });
        });
      },
      { probot },
    );
    server = createServer((req, res) => {
      void middleware(req, res, () => {
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("a signed delivery reaches a Probot app carrying every override", async () => {
    const payload = pullRequestEvent("labeled", {
      ...target,
      number: 42,
      headSha: "a".repeat(40),
      label: "ciflow/relay/npu",
      authorAssociation: "CONTRIBUTOR",
      sender: "alice",
    });

    const answer = await sendWebhook(baseUrl, { event: "pull_request", payload, deliveryId: "delivery-1" });

    expect(answer.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0].name).toBe("pull_request");
    expect(received[0].payload).toMatchObject({
      action: "labeled",
      number: 42,
      label: { name: "ciflow/relay/npu" },
      installation: { id: 5 },
      sender: { login: "alice", type: "User" },
      repository: { full_name: "pytorch/pytorch", name: "pytorch", owner: { login: "pytorch" } },
      pull_request: {
        number: 42,
        head: { sha: "a".repeat(40), repo: { full_name: "pytorch/pytorch" } },
        author_association: "CONTRIBUTOR",
        html_url: "https://github.com/pytorch/pytorch/pull/42",
      },
    });
    expect((received[0].payload as typeof payload).pull_request.labels.map((l) => l.name)).toContain(
      "ciflow/relay/npu",
    );
    expect(JSON.stringify(received[0].payload)).not.toContain("Codertocat/Hello-World");
  });

  test("a delivery with a wrong or missing signature is refused", async () => {
    const payload = pushEvent(target);

    const wrong = await sendWebhook(baseUrl, { event: "push", payload, secret: "not-the-secret" });
    const missing = await sendWebhook(baseUrl, { event: "push", payload, signature: null });

    expect([wrong.status, missing.status]).toEqual([400, 400]);
    expect(received).toEqual([]);
  });
});

test("sign computes GitHub's documented X-Hub-Signature-256", () => {
  expect(sign("Hello, World!", "It's a Secret to Everybody")).toBe(
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
  );
});

test("a push with an all-zero after is a branch deletion without a head commit", () => {
  const payload = pushEvent({ ...target, ref: "refs/heads/release/2.5", after: "0".repeat(40) });

  expect(payload).toMatchObject({ ref: "refs/heads/release/2.5", deleted: true, head_commit: null, commits: [] });
});

test("a re-requested check run belongs to the test App and the given head", () => {
  const payload = checkRunRerequestedEvent({ ...target, headSha: "b".repeat(40), externalId: "req-9", sender: "bob" });

  expect(payload.check_run).toMatchObject({ head_sha: "b".repeat(40), external_id: "req-9", app: { id: TEST_APP_ID } });
  expect(payload.repository.full_name).toBe("pytorch/pytorch");
});

test("a fork pull request names the fork as its head", () => {
  const payload = pullRequestEvent("opened", { ...target, headRepo: "alice/pytorch", headRef: "fix" });

  expect(payload.pull_request.head).toMatchObject({
    label: "alice:fix",
    repo: { full_name: "alice/pytorch", fork: true },
  });
  expect(payload.pull_request.base.repo.full_name).toBe("pytorch/pytorch");
});
