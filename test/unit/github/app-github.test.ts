import nock from "nock";
import pino from "pino";
import { Probot } from "probot";
import { AppGitHub } from "../../../src/github/app-github";
import { GitHubCalls } from "../../../src/github/github-calls";
import { relayOctokit } from "../../../src/github/relay-octokit";
import { createMetrics } from "../../../src/metrics/metrics";
import { MemoryStore } from "../../../src/store/memory-store";
import { testAppCredentials } from "../../support/app-key";

const API = "https://api.github.test";

/**
 * The app's client as deployed (throttle on), but with a write limiter that never lets a request
 * through: any request that goes through the throttle's write pacing hangs.
 */
function appGitHubWithWritesHeld(): AppGitHub {
  const metrics = createMetrics();
  const log = pino({ level: "silent" });
  const { appId, privateKeyPem } = testAppCredentials();
  const heldWrites = { key: () => ({ schedule: () => new Promise<never>(() => undefined) }) };
  const Octokit = relayOctokit(metrics, log, new GitHubCalls(metrics)).defaults((options: { throttle?: object }) => ({
    ...options,
    retry: { enabled: false },
    throttle: { ...options.throttle, write: heldWrites },
  }));
  const probot = new Probot({ appId, privateKey: privateKeyPem, baseUrl: API, log, Octokit });
  return new AppGitHub(probot, new MemoryStore(), metrics);
}

const tokenReply = { token: "ghs_x", expires_at: new Date(Date.now() + 3_600_000).toISOString() };

afterEach(() => nock.cleanAll());
// nock patches Node's http for the whole Jest worker; left active, it stalls the real HTTP of
// the test files that run after this one in the same worker (the fuzz suite's requests hung).
afterAll(() => nock.restore());

describe("AppGitHub.forRepo", () => {
  // The throttle spaces an app's writes a second apart across all installations; a token mint is no
  // content write, and first dispatches to several installations must not queue behind each other.
  test("an installation token is minted without waiting for the app client's write pacing", async () => {
    const api = nock(API)
      .get("/repos/o/r/installation")
      .reply(200, { id: 7 })
      .post("/app/installations/7/access_tokens", { repositories: ["r"], permissions: { contents: "read" } })
      .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/)
      .reply(201, tokenReply);

    await appGitHubWithWritesHeld().forRepo("o/r", { contents: "read" });
    expect(api.isDone()).toBe(true);
  });
});
