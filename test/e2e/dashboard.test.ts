import { chromium, type Browser } from "playwright-core";
import type { UpstreamRunView } from "../../src/dashboard/list-runs";
import { RedisStore } from "../../src/store/redis-store";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { testRedisUrl } from "../support/redis-prefix";
import { seedDispatch } from "../support/seed-runs";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;

/** What the in-page code uses; the test's TypeScript has no DOM types. */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

/** Chromium from Debian; flags keep it off the (closed) network, as this machine requires. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("dashboard page in headless Chromium", () => {
  let github: FakeGitHub;
  let relay: RelayServer;
  let browser: Browser;

  beforeAll(async () => {
    github = await startFakeGitHub();
    relay = await startRelayServer({ fakeGitHub: github, configYaml: CONFIG, env: { RELAY_TOKEN_SECRET: "dashboard-test-secret-0123456789abcdefghij" } });
    const store = new RedisStore(testRedisUrl(), relay.redisPrefix);
    await seedDispatch(store, { requestId: "r-fail", downstream: "vendor/backend", deliveryId: "d-old", createdAt: Date.now() - 60_000 }, [
      { jobName: "build", conclusion: "failure", detailsUrl: "https://ci.example/runs/1", queueTimeSeconds: 42, executionTimeSeconds: 615 },
    ]);
    await seedDispatch(
      store,
      { requestId: "r-run", downstream: "Ascend/pytorch", level: "L4", deliveryId: "d-new", createdAt: Date.now(), upstream: { repo: "pytorch/pytorch", sha: "b".repeat(40), ref: "refs/pull/2/head", prNumber: 2 } },
      [{ jobName: "npu-test", state: "IN_PROGRESS", conclusion: null, detailsUrl: "https://ci.example/runs/2", queueTimeSeconds: 5 }],
    );
    await store.close();
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (relay) {
      await relay.stop();
      await cleanupRedisPrefix(relay.redisPrefix);
    }
    await github?.close();
  });

  it("shows each downstream newest first with status colours, durations and links, and runs no script", async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const response = await page.goto(relay.url("/relay"));
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(relay.url("/relay/"));

    const rows = page.locator("tr.downstream");
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-repo"), tr.getAttribute("data-status")]))).toEqual([
      ["Ascend/pytorch", "in_progress"],
      ["vendor/backend", "failure"],
    ]);
    const failed = page.locator('tr[data-repo="vendor/backend"]');
    expect(await failed.locator(".status.failure").first().evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).backgroundColor)).toBe("rgb(207, 34, 46)");
    expect(await failed.textContent()).toContain("42 s");
    expect(await failed.textContent()).toContain("10 min 15 s");
    expect(await failed.locator("a").first().getAttribute("href")).toBe("https://ci.example/runs/1");
    expect(await page.evaluate("document.scripts.length")).toBe(0);
    expect(requests.every((url) => url.startsWith(relay.baseUrl))).toBe(true);
    await page.screenshot({ path: "/tmp/ci-relay-dashboard.png", fullPage: true });
  });

  it("serves the same data as JSON and filters by PR", async () => {
    const answer = (await (await fetch(relay.url("/relay/v1/runs?upstream=pytorch/pytorch&pr=2"))).json()) as { ok: boolean; runs: UpstreamRunView[] };
    expect(answer.ok).toBe(true);
    expect(answer.runs).toHaveLength(1);
    expect(answer.runs[0].downstreams[0]).toMatchObject({ repo: "Ascend/pytorch", level: "L4", jobs: [{ name: "npu-test", state: "IN_PROGRESS" }] });
    const bad = await fetch(relay.url("/relay/v1/runs?sha=xyz"));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { failureKind: string }).failureKind).toBe("validation-failed");
  });
});
