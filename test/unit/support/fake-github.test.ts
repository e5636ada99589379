import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "@jest/globals";
import { ProbotOctokit } from "probot";
import { generateAppKey, testAppCredentials } from "../../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../../support/fake-github";

// The relay's own clients retry and throttle; here every answer must reach the test as sent.
const TestOctokit = ProbotOctokit.defaults((options: object) => ({
  ...options,
  throttle: { enabled: false },
  retry: { enabled: false },
}));
type Client = InstanceType<typeof TestOctokit>;

const INSTALLATION = 31;

let github: FakeGitHub;

beforeEach(async () => {
  github = await startFakeGitHub();
  github.addInstallation({ id: INSTALLATION, account: "Acme", repos: ["Acme/Downstream", "acme/other"] });
  github.addInstallation({ id: 32, account: "pytorch", repos: ["pytorch/pytorch"] });
});

afterEach(async () => {
  await github.close();
});

function appClient(privateKey = testAppCredentials().privateKeyPem): Client {
  return new TestOctokit({ baseUrl: github.apiUrl, auth: { appId: testAppCredentials().appId, privateKey } });
}

function tokenClient(token: string): Client {
  return new TestOctokit({ baseUrl: github.apiUrl, auth: { token } });
}

/** An installation token the way the relay gets one: through app auth, optionally scoped. */
async function installationToken(
  scope: { repositoryNames?: string[]; permissions?: Record<string, string> } = {},
): Promise<string> {
  const auth = (await appClient().auth({ type: "installation", installationId: INSTALLATION, ...scope })) as {
    token: string;
  };
  return auth.token;
}

async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    const response = (await request) as { status: number };
    return response.status;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe("fake GitHub", () => {
  test("finds a repository's installation with the App JWT, whatever the case of the name", async () => {
    const { data } = await appClient().request("GET /repos/{owner}/{repo}/installation", {
      owner: "ACME",
      repo: "downstream",
    });

    expect(data.id).toBe(INSTALLATION);
    expect(
      await statusOf(appClient().request("GET /repos/{owner}/{repo}/installation", { owner: "acme", repo: "nope" })),
    ).toBe(404);
  });

  test("refuses an App JWT signed with a key it was not given", async () => {
    const stranger = appClient(generateAppKey().privateKeyPem);

    expect(await statusOf(stranger.request("GET /app/installations"))).toBe(401);
  });

  test("records the repositories and permissions an access token was scoped to", async () => {
    const token = await installationToken({ repositoryNames: ["downstream"], permissions: { contents: "write" } });

    const [tokenRequest] = github.requestsTo("POST", "/app/installations/{id}/access_tokens");
    expect(tokenRequest.body).toEqual({ repositories: ["downstream"], permissions: { contents: "write" } });
    expect(github.issuedTokens()).toEqual([
      expect.objectContaining({
        token,
        installationId: INSTALLATION,
        repositories: ["Acme/Downstream"],
        permissions: { contents: "write" },
      }),
    ]);
  });

  test("records a repository dispatch sent with a token scoped to that repository", async () => {
    const token = await installationToken({ repositoryNames: ["Downstream"] });

    const response = await tokenClient(token).request("POST /repos/{owner}/{repo}/dispatches", {
      owner: "acme",
      repo: "downstream",
      event_type: "pull_request",
      client_payload: { delivery_id: "d-1" },
    });

    expect(response.status).toBe(204);
    expect(github.dispatches("Acme/Downstream")).toEqual([
      expect.objectContaining({ eventType: "pull_request", clientPayload: { delivery_id: "d-1" }, token }),
    ]);
    const [recorded] = github.requestsTo("POST", "/repos/acme/downstream/dispatches");
    expect(recorded.authorization).toBe(`token ${token}`);
    expect(recorded.token?.repositories).toEqual(["Acme/Downstream"]);
  });

  test("hides repositories outside a token's scope, as GitHub does", async () => {
    const token = await installationToken({ repositoryNames: ["downstream"] });

    const status = await statusOf(
      tokenClient(token).request("POST /repos/{owner}/{repo}/dispatches", {
        owner: "acme",
        repo: "other",
        event_type: "push",
      }),
    );

    expect(status).toBe(404);
    expect(github.dispatches()).toEqual([]);
  });

  test("refuses a call the token has no permission for", async () => {
    const token = await installationToken({ permissions: { issues: "read" } });
    github.setIssue("acme/downstream", { number: 5 });

    const comment = tokenClient(token).request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner: "acme",
      repo: "downstream",
      issue_number: 5,
      body: "hello",
    });

    expect(await statusOf(comment)).toBe(403);
    expect(github.comments()).toEqual([]);
  });

  test("refuses unknown and expired installation tokens", async () => {
    const token = await installationToken();
    const client = tokenClient(token);
    expect(await statusOf(client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "downstream" }))).toBe(
      200,
    );

    github.expireTokens();

    expect(await statusOf(client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "downstream" }))).toBe(
      401,
    );
    expect(await statusOf(tokenClient("ghs_unknown").request("GET /rate_limit"))).toBe(401);
  });

  test("fails the next dispatch with the status and retry-after it was told, then serves again", async () => {
    const client = tokenClient(await installationToken());
    github.failNext({
      method: "POST",
      path: "/repos/{owner}/{repo}/dispatches",
      status: 403,
      headers: { "retry-after": "7" },
      body: { message: "You have exceeded a secondary rate limit." },
    });
    const dispatch = () =>
      client.request("POST /repos/{owner}/{repo}/dispatches", {
        owner: "acme",
        repo: "downstream",
        event_type: "push",
      });

    const error = await dispatch().then(
      () => null,
      (e: { status: number; message: string; response?: { headers: Record<string, string> } }) => e,
    );

    expect(error?.status).toBe(403);
    expect(error?.message).toMatch(/secondary rate limit/);
    expect(error?.response?.headers["retry-after"]).toBe("7");
    expect((await dispatch()).status).toBe(204);
    expect(github.dispatches()).toHaveLength(1);
    expect(github.requestsTo("POST", "/repos/{owner}/{repo}/dispatches").map((r) => [r.status, r.injected])).toEqual([
      [403, true],
      [204, false],
    ]);
  });

  test("fails as many matching requests as it was told to", async () => {
    const client = tokenClient(await installationToken());
    github.failNext({ path: /\/dispatches$/, status: 502, times: 2 });
    const dispatch = () =>
      statusOf(
        client.request("POST /repos/{owner}/{repo}/dispatches", {
          owner: "acme",
          repo: "downstream",
          event_type: "push",
        }),
      );

    expect([await dispatch(), await dispatch(), await dispatch()]).toEqual([502, 502, 204]);
  });

  test("shows a delayed request as pending until it is answered", async () => {
    const client = tokenClient(await installationToken());
    github.delayNext({ method: "POST", path: "/repos/{owner}/{repo}/dispatches", ms: 300 });

    const answer = client.request("POST /repos/{owner}/{repo}/dispatches", {
      owner: "acme",
      repo: "downstream",
      event_type: "push",
    });
    const pending = await github.waitFor((r) => r.path.endsWith("/dispatches"));
    expect(pending.status).toBeNull();

    expect((await answer).status).toBe(204);
    expect(pending.status).toBe(204);
  });

  test("answers unknown endpoints 404 and lists them as unhandled", async () => {
    const client = tokenClient(await installationToken());

    expect(
      await statusOf(client.request("GET /repos/{owner}/{repo}/hooks", { owner: "acme", repo: "downstream" })),
    ).toBe(404);
    expect(github.unhandledRequests().map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/downstream/hooks",
    ]);
  });

  test("keeps check runs and lists the latest per name with their external id", async () => {
    const client = tokenClient(await installationToken());
    const repo = { owner: "acme", repo: "downstream" };
    const created = await client.request("POST /repos/{owner}/{repo}/check-runs", {
      ...repo,
      name: "relay/acme/downstream",
      head_sha: "abc",
      external_id: "req-1",
    });
    await client.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      ...repo,
      check_run_id: created.data.id,
      conclusion: "success",
    });

    const { data } = await client.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repo,
      ref: "abc",
      check_name: "relay/acme/downstream",
    });

    expect(created.status).toBe(201);
    expect(data.total_count).toBe(1);
    expect(data.check_runs[0]).toMatchObject({
      id: created.data.id,
      external_id: "req-1",
      status: "completed",
      conclusion: "success",
    });
  });

  test("refuses to complete a check run without a conclusion", async () => {
    const client = tokenClient(await installationToken());

    const status = await statusOf(
      client.request("POST /repos/{owner}/{repo}/check-runs", {
        owner: "acme",
        repo: "downstream",
        name: "x",
        head_sha: "abc",
        status: "completed",
      }),
    );

    expect(status).toBe(422);
    expect(github.checkRuns()).toEqual([]);
  });

  test("serves files set for a ref, base64-encoded like GitHub", async () => {
    github.setFile("acme/downstream", ".github/relay.yml", "version: 1\n", "config");
    const client = tokenClient(await installationToken());

    const { data } = await client.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: "acme",
      repo: "downstream",
      path: ".github/relay.yml",
      ref: "config",
    });
    const missing = client.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: "acme",
      repo: "downstream",
      path: ".github/relay.yml",
    });

    expect(Buffer.from((data as { content: string }).content, "base64").toString()).toBe("version: 1\n");
    expect(await statusOf(missing)).toBe(404);
  });

  test("serves seeded issues and pulls and keeps the comments and pulls it is sent", async () => {
    github.setPull("acme/downstream", { number: 7, title: "Fix", head: { sha: "def" } });
    github.setIssue("acme/downstream", { number: 8, title: "Bug", labels: ["bug"] });
    const client = tokenClient(await installationToken());
    const repo = { owner: "acme", repo: "downstream" };

    const issues = await client.request("GET /repos/{owner}/{repo}/issues", repo);
    const pull = await client.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { ...repo, pull_number: 7 });
    await client.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...repo,
      issue_number: 7,
      body: "done",
    });
    const created = await client.request("POST /repos/{owner}/{repo}/pulls", {
      ...repo,
      title: "New",
      head: "topic",
      base: "main",
    });

    expect(issues.data.map((i) => [i.number, i.title])).toEqual([
      [8, "Bug"],
      [7, "Fix"],
    ]);
    expect(pull.data.head.sha).toBe("def");
    expect(github.comments("acme/downstream", 7)).toEqual([
      expect.objectContaining({ body: "done", user: "ci-relay-test[bot]" }),
    ]);
    expect(created.data.number).toBe(9);
    expect(
      await statusOf(client.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { ...repo, pull_number: 8 })),
    ).toBe(404);
  });

  test("records re-runs of known workflow runs and 404s unknown ones", async () => {
    github.addWorkflowRun("acme/downstream", { id: 77 });
    const client = tokenClient(await installationToken());
    const repo = { owner: "acme", repo: "downstream" };

    await client.request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs", { ...repo, run_id: 77 });
    const unknown = client.request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun", { ...repo, run_id: 78 });

    expect(await statusOf(unknown)).toBe(404);
    expect(github.reruns()).toEqual([
      expect.objectContaining({ repo: "Acme/Downstream", runId: 77, kind: "rerun-failed-jobs" }),
    ]);
  });

  test("waitFor names what it saw when the request never comes", async () => {
    await expect(github.waitFor((r) => r.path === "/never", 50)).rejects.toThrow(
      /not seen within 50 ms; saw:\n {2}nothing/,
    );
  });

  test("lists the App's webhook deliveries newest first with cursor pagination, and redelivers on request", async () => {
    const receiver = createServer((req, res) => {
      req.resume();
      res.writeHead(req.headers["x-github-delivery"] === "refused" ? 503 : 200).end();
    });
    await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
    try {
      github.hooks.setTarget(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`);
      const event = { action: "opened", installation: { id: 32 }, repository: { id: 7 } };
      const first = await github.hooks.deliver("pull_request", event, "accepted");
      const second = await github.hooks.deliver("pull_request", event, "refused");
      const third = await github.hooks.deliver("push", {}, "third");
      const client = appClient();

      const page = await client.request("GET /app/hook/deliveries", { per_page: 2 });
      expect(page.data.map((d) => d.id)).toEqual([third.id, second.id]);
      expect(page.data[1]).toEqual({
        id: second.id,
        guid: "refused",
        delivered_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        redelivery: false,
        duration: expect.any(Number),
        status: "Invalid HTTP Response: 503",
        status_code: 503,
        event: "pull_request",
        action: "opened",
        installation_id: 32,
        repository_id: 7,
        throttled_at: null,
      });
      expect(page.headers.link).toMatch(/cursor=v1_\d+.*rel="next"/);
      const all = await client.paginate("GET /app/hook/deliveries", { per_page: 2 });
      expect(all.map((d) => d.id)).toEqual([third.id, second.id, first.id]);

      const asked = await client.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: first.id });
      expect(asked.status).toBe(202);
      expect(
        await statusOf(client.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: 1 })),
      ).toBe(404);
      await github.hooks.settle();
      const [again] = (await client.request("GET /app/hook/deliveries", { per_page: 1 })).data;
      expect(again).toMatchObject({ guid: "accepted", redelivery: true, status: "OK", status_code: 200 });
      expect(github.hooks.redeliveryRequests).toEqual([first.id]);
      expect(await statusOf(tokenClient(await installationToken()).request("GET /app/hook/deliveries"))).toBe(401);
    } finally {
      await new Promise<void>((done) => receiver.close(() => done()));
    }
  });
});
