import { Octokit } from "@octokit/core";
import nock from "nock";
import pino from "pino";
import { Probot, ProbotOctokit } from "probot";
import { GitHubCalls } from "../../../src/github/github-calls";
import { lazyAuthStrategy, type AuthStrategyResult } from "../../../src/github/lazy-auth-strategy";
import { relayOctokit } from "../../../src/github/relay-octokit";
import { createMetrics } from "../../../src/metrics/metrics";
import { testAppCredentials } from "../../support/app-key";

/** A strategy that counts how often it is built and marks the requests it wraps. */
function countingStrategy() {
  const built: unknown[] = [];
  const strategy = (options: { token: string }): AuthStrategyResult => {
    built.push(options);
    const auth = async () => ({ type: "token", token: options.token });
    return Object.assign(auth, {
      hook: async (_request: unknown, route: unknown) => ({
        authorizedWith: options.token,
        url: (route as { url: string }).url,
      }),
    });
  };
  return { built, strategy };
}

describe("lazyAuthStrategy", () => {
  it("builds nothing for a client that sends no request", () => {
    const { built, strategy } = countingStrategy();
    new Octokit({ authStrategy: lazyAuthStrategy(strategy), auth: { token: "t1" } });
    expect(built).toHaveLength(0);
  });

  it("builds the strategy once, on first use, with the client's auth options, and wraps every request with it", async () => {
    const { built, strategy } = countingStrategy();
    const client = new Octokit({ authStrategy: lazyAuthStrategy(strategy), auth: { token: "t2" } });
    const first = (await client.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" })) as unknown;
    const second = (await client.request("GET /app")) as unknown;
    expect(first).toEqual({ authorizedWith: "t2", url: "/repos/{owner}/{repo}" });
    expect(second).toEqual({ authorizedWith: "t2", url: "/app" });
    expect(await client.auth()).toEqual({ type: "token", token: "t2" });
    expect(built).toHaveLength(1);
    expect(built[0]).toMatchObject({ token: "t2" });
  });
});

/**
 * Probot's webhooks transform asks the app's client for an "event-octokit" for every delivery; with
 * the relay's Octokit that client is built only when a handler uses it, and is then the installation
 * client Probot would have made.
 */
describe("event clients of Probot's webhooks transform", () => {
  const API = "https://api.github.test";
  const { appId, privateKeyPem } = testAppCredentials();

  function probotCountingClients() {
    let built = 0;
    const metrics = createMetrics();
    const log = pino({ level: "silent" });
    const Octokit = relayOctokit(metrics, log, new GitHubCalls(metrics))
      .defaults((options: object) => ({ ...options, retry: { enabled: false }, throttle: { enabled: false } }))
      .plugin(() => {
        built += 1;
        return {};
      });
    const probot = new Probot({ appId, privateKey: privateKeyPem, baseUrl: API, log, Octokit });
    return { probot, built: () => built };
  }

  const push = (installationId: number) => ({ ref: "refs/heads/main", installation: { id: installationId } });
  type Handler = Parameters<Probot["webhooks"]["on"]>[1];
  const receive = (probot: Probot, id: string, installationId: number) =>
    probot.webhooks.receive({ id, name: "push", payload: push(installationId) } as Parameters<
      Probot["webhooks"]["receive"]
    >[0]);

  afterEach(() => nock.cleanAll());
  // nock patches Node's http for the whole Jest worker; left active, it stalls the real HTTP of
  // the test files that run after this one in the same worker (the fuzz suite's requests hung).
  afterAll(() => nock.restore());

  it("builds no client for deliveries whose handlers do not use it", async () => {
    const { probot, built } = probotCountingClients();
    const seen: number[] = [];
    const handler: Handler = (context) => void seen.push((context.payload as ReturnType<typeof push>).installation.id);
    probot.webhooks.on("push", handler);
    const before = built(); // the app's own client, built with Probot
    for (let i = 0; i < 5; i++) await receive(probot, `d-${i}`, 10 + i);
    expect(seen).toEqual([10, 11, 12, 13, 14]);
    expect(built() - before).toBe(0);
  });

  it("builds the installation client on first use: installation token, the delivery id header, one build", async () => {
    const { probot, built } = probotCountingClients();
    const api = nock(API)
      .post("/app/installations/77/access_tokens")
      .reply(201, { token: "ghs_event", expires_at: new Date(Date.now() + 3_600_000).toISOString() })
      .get("/repos/o/r")
      .matchHeader("authorization", "token ghs_event")
      .matchHeader("x-github-delivery", "delivery-77")
      .twice()
      .reply(200, { full_name: "o/r" });
    const names: string[] = [];
    let client: unknown;
    const handler: Handler = async (context) => {
      client = context.octokit;
      const first = await context.octokit.rest.repos.get({ owner: "o", repo: "r" });
      const second = await context.octokit.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" });
      names.push(String(first.data.full_name), String(second.data.full_name));
    };
    probot.webhooks.on("push", handler);
    const before = built();
    await receive(probot, "delivery-77", 77);
    expect(names).toEqual(["o/r", "o/r"]);
    expect(api.isDone()).toBe(true);
    expect(built() - before).toBe(1);
    expect(client).toBeInstanceOf(ProbotOctokit);
    expect(await (client as InstanceType<typeof ProbotOctokit>).auth({ type: "installation" })).toMatchObject({
      type: "token",
      tokenType: "installation",
      token: "ghs_event",
    });
  });

  it("gives each event the client of its own installation", async () => {
    const { probot } = probotCountingClients();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const api = nock(API);
    for (const id of [81, 82]) {
      api
        .post(`/app/installations/${id}/access_tokens`)
        .reply(201, { token: `ghs_${id}`, expires_at: expiresAt })
        .get("/installation/repositories")
        .matchHeader("authorization", `token ghs_${id}`)
        .reply(200, { total_count: 0, repositories: [], installation: id });
    }
    const answers: unknown[] = [];
    const handler: Handler = async (context) => {
      answers.push((await context.octokit.request("GET /installation/repositories")).data);
    };
    probot.webhooks.on("push", handler);
    await receive(probot, "delivery-81", 81);
    await receive(probot, "delivery-82", 82);
    expect(answers).toEqual([
      expect.objectContaining({ installation: 81 }),
      expect.objectContaining({ installation: 82 }),
    ]);
    expect(api.isDone()).toBe(true);
  });

  it("leaves a delivery without an installation to Probot's own unauthenticated client", async () => {
    const { probot } = probotCountingClients();
    let auth: unknown;
    const handler: Handler = async (context) => {
      auth = await context.octokit.auth();
    };
    probot.webhooks.on("push", handler);
    await probot.webhooks.receive({ id: "no-installation", name: "push", payload: { ref: "x" } } as Parameters<
      Probot["webhooks"]["receive"]
    >[0]);
    expect(auth).toMatchObject({
      type: "unauthenticated",
      reason: expect.stringMatching(/"installation" key is missing/) as unknown,
    });
  });
});
