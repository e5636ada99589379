import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { DownstreamView, UpstreamRunView } from "../../src/dashboard/list-runs";
import type { DownstreamsSummary } from "../../src/dashboard/summarize-downstreams";
import { RedisStore } from "../../src/store/redis-store";
import {
  callBack,
  dispatchPr,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type CallbackWorld,
} from "../support/callback-world";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { testRedisUrl } from "../support/redis-prefix";
import { seedDispatch } from "../support/seed-runs";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, pushEvent, randomSha, sendWebhook } from "../support/webhooks";

/** What the page checks read of an element, in the browser (the tests compile without the DOM's types). */
interface PageElement {
  getAttribute(name: string): string | null;
  classList: { contains(token: string): boolean };
}

/** Screenshots of each state, for people (gitignored; docs/ holds the committed one). */
const SCREENSHOTS = join(__dirname, "../../test-output/screenshots");

/** Config order is deliberately not alphabetical: every section must keep it. */
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
pull_request: { trust_label: ci/ok-to-test }
downstreams:
  - { repo: vendor/backend, level: L2, oncalls: [alice] }
  - { repo: vendor/gone, level: L2, oncalls: [bob, carol] }
  - { repo: vendor/flaky, level: L2 }
`;

const XSS_JOB = "<script>alert(1)</script>";

/** What the in-page code uses; the test's TypeScript has no DOM types. */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

/** Chromium from Debian; flags keep it off the (closed) network, as this machine requires. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const backgroundOf = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).backgroundColor);

async function runs(baseUrl: string): Promise<UpstreamRunView[]> {
  const answer = (await (await fetch(`${baseUrl}/relay/v1/runs`)).json()) as { runs: UpstreamRunView[] };
  return answer.runs;
}

async function downstreamNamed(
  baseUrl: string,
  repo: string,
  where: (d: DownstreamView) => boolean,
): Promise<DownstreamView | undefined> {
  return (await runs(baseUrl)).flatMap((r) => r.downstreams).find((d) => d.repo === repo && where(d));
}

describe("dashboard page in headless Chromium, after real flows", () => {
  let world: CallbackWorld;
  let browser: Browser;
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    world = await startCallbackWorld(CONFIG, ["vendor/backend", "vendor/gone", "vendor/flaky"]);
    // vendor/gone's dispatch is refused for good: the relay gives up at once.
    world.github.failNext({
      method: "POST",
      path: "/repos/vendor/gone/dispatches",
      status: 422,
      body: { message: "Unprocessable Entity" },
    });
    // vendor/flaky's meets a GitHub that answers 502 for as long as the test runs: it keeps retrying.
    world.github.failNext({ method: "POST", path: "/repos/vendor/flaky/dispatches", status: 502, times: 1_000_000 });
    const { "vendor/backend": sent } = await dispatchPr(world, ["vendor/backend"]);
    // A downstream reports a job whose name is markup.
    const started = await callBack(
      world,
      sent,
      workflowReport({ status: "in_progress", job_name: XSS_JOB }),
      "vendor/backend",
    );
    expect(started.status).toBe(200);
    const done = await callBack(
      world,
      sent,
      workflowReport({ status: "completed", conclusion: "failure", job_name: XSS_JOB }),
      "vendor/backend",
    );
    expect(done.status).toBe(200);
    await waitUntil(
      async () =>
        (await downstreamNamed(world.relay.baseUrl, "vendor/gone", (d) => d.state.name === "given_up")) !== undefined,
      60_000,
      "vendor/gone given up",
    );
    await waitUntil(
      async () =>
        (await downstreamNamed(world.relay.baseUrl, "vendor/backend", (d) => d.state.name === "failure")) !== undefined,
      60_000,
      "vendor/backend failure",
    );
    await waitUntil(
      async () =>
        (await downstreamNamed(world.relay.baseUrl, "vendor/flaky", (d) => d.state.name === "retrying")) !== undefined,
      60_000,
      "vendor/flaky retrying",
    );
    // Stuck: a dispatch sent two hours ago that nobody picked up (its 60 min pickup deadline passed
    // unnoticed, as when the timeout sweep is not running). Seeded: waiting an hour is no test.
    const store = new RedisStore(testRedisUrl(), world.relay.redisPrefix);
    await seedDispatch(store, {
      requestId: "r-stuck",
      downstream: "vendor/backend",
      deliveryId: "d-stuck",
      createdAt: Date.now() - 2 * 3600_000,
      dispatchedAt: Date.now() - 2 * 3600_000 + 500,
      upstream: { repo: "pytorch/pytorch", sha: "c".repeat(40), ref: "refs/heads/main", prNumber: null },
      event: "push",
    });
    await store.close();
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function openDashboard(
    viewport = { width: 1100, height: 900 },
  ): Promise<{ page: Page; requests: string[]; csp: string | undefined }> {
    const page = await browser.newPage({ viewport });
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const response = await page.goto(world.relay.url("/relay"));
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(world.relay.url("/relay/"));
    return { page, requests, csp: response?.headers()["content-security-policy"] };
  }

  it("lists stuck work first, gives up in red with the reason, and keeps config order", async () => {
    const { page, requests, csp } = await openDashboard();
    const rows = await page
      .locator("tr.downstream")
      .evaluateAll((trs: PageElement[]) =>
        trs.map((tr) => [tr.getAttribute("data-repo"), tr.getAttribute("data-status"), tr.classList.contains("stuck")]),
      );
    expect(rows[0]).toEqual(["vendor/backend", "queued", true]);
    expect(await page.locator(".stuck-work").textContent()).toContain("not picked up within its 60 min pickup timeout");
    // The PR's section: config order, each with its state.
    expect(rows.slice(1, 4)).toEqual([
      ["vendor/backend", "failure", false],
      ["vendor/gone", "given_up", false],
      ["vendor/flaky", "retrying", false],
    ]);
    const flaky = page.locator('section.upstream tr[data-repo="vendor/flaky"]');
    expect(await flaky.textContent()).toMatch(
      /\d+ attempts? failed, last: HTTP 502 from GitHub; next try \d\d:\d\d:\d\d UTC/,
    );
    const gone = page.locator('section.upstream tr[data-repo="vendor/gone"]');
    expect(await gone.textContent()).toContain("given up");
    expect(await gone.textContent()).toMatch(/gave up after 1 attempt at \d\d:\d\d UTC: HTTP 422 from GitHub/);
    expect(await backgroundOf(page, 'section.upstream tr[data-repo="vendor/gone"] .status.given_up')).toBe(
      "rgb(130, 7, 30)",
    );
    expect(await backgroundOf(page, 'section.upstream tr[data-repo="vendor/backend"] .status.failure')).toBe(
      "rgb(207, 34, 46)",
    );
    expect(await backgroundOf(page, ".stuck-work .status.queued")).toBe("rgb(9, 105, 218)");
    // The summary leads with a row per downstream, in config order.
    expect(
      await page
        .locator("tr.summary")
        .evaluateAll((trs: PageElement[]) => trs.map((tr) => tr.getAttribute("data-repo"))),
    ).toEqual(["vendor/backend", "vendor/gone", "vendor/flaky"]);
    expect(await page.locator('tr.summary[data-repo="vendor/gone"]').textContent()).toContain("bob, carol");
    expect(csp).toContain("default-src 'none'");
    expect(requests.every((url) => url.startsWith(world.relay.baseUrl))).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, "overview.png"), fullPage: true });
    await page.locator(".stuck-work").screenshot({ path: join(SCREENSHOTS, "stuck.png") });
    await gone.screenshot({ path: join(SCREENSHOTS, "given-up.png") });
    await flaky.screenshot({ path: join(SCREENSHOTS, "retrying-502.png") });
    await page.close();
  });

  it("renders a job named <script> as text and runs no script but its own", async () => {
    const { page } = await openDashboard();
    const backend = page.locator('section.upstream tr[data-repo="vendor/backend"]').first();
    expect(await backend.locator(".status.failure").last().textContent()).toBe(`${XSS_JOB}: failure`);
    expect(await page.evaluate("document.scripts.length")).toBe(1);
    expect(await page.evaluate("Array.from(document.scripts).every((s) => !s.textContent.includes('alert'))")).toBe(
      true,
    );
    expect(dialogs).toEqual([]);
    await backend.screenshot({ path: join(SCREENSHOTS, "failure-with-markup-job-name.png") });
    await page.close();
  });

  it("serves the same as JSON: states with reasons, and the per-downstream summary", async () => {
    const gone = await downstreamNamed(world.relay.baseUrl, "vendor/gone", () => true);
    expect(gone).toMatchObject({
      dispatchState: "failed",
      attempts: 1,
      lastError: "HTTP 422 from GitHub",
      state: { name: "given_up" },
    });
    expect(gone?.failedAt).toEqual(expect.any(String));
    const summary = (await (await fetch(world.relay.url("/relay/v1/downstreams"))).json()) as DownstreamsSummary & {
      ok: boolean;
    };
    expect(summary.windowDays).toBe(14);
    expect(summary.downstreams.map((d) => d.repo)).toEqual(["vendor/backend", "vendor/gone", "vendor/flaky"]);
    expect(summary.downstreams[0]).toMatchObject({
      level: "L2",
      oncalls: ["alice"],
      dispatches: 2,
      successRate: 0,
      timeouts: 0,
      meetsLevel: true,
      failedThresholds: [],
    });
    expect(summary.downstreams[1]).toMatchObject({ dispatches: 1, successRate: null, pickupRate: null });
    for (const path of ["/relay/v1/downstreams?window_days=0", "/relay/v1/runs?sha=xyz"]) {
      const bad = await fetch(world.relay.url(path));
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { failureKind: string }).failureKind).toBe("validation-failed");
    }
  });
  it("lists deliveries that reached nobody under \"Not relayed\", with each downstream's reason, under the page's filters", async () => {
    const pushId = randomUUID();
    const prId = randomUUID();
    const push = pushEvent({ repo: "pytorch/pytorch", installationId: 11, ref: "refs/heads/feature/not-relayed" });
    expect((await sendWebhook(world.relay.baseUrl, { event: "push", payload: push, deliveryId: pushId })).status).toBe(
      200,
    );
    const pr = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "NONE",
      number: 4242,
      headSha: randomSha(),
    });
    expect(
      (await sendWebhook(world.relay.baseUrl, { event: "pull_request", payload: pr, deliveryId: prId })).status,
    ).toBe(200);
    for (const id of [pushId, prId]) {
      await waitUntil(
        async () => (await fetch(world.relay.url(`/relay/v1/deliveries/${id}`))).status === 200,
        30_000,
        `delivery ${id} explained`,
      );
    }

    const { page } = await openDashboard();
    const pushRow = page.locator(`tr.not-relayed[data-delivery="${pushId}"]`);
    expect(
      await pushRow.locator(".skip").evaluateAll((divs: PageElement[]) => divs.map((d) => d.getAttribute("data-repo"))),
    ).toEqual(["vendor/backend", "vendor/gone", "vendor/flaky"]);
    expect(await pushRow.locator(".skip .status.skipped").allTextContents()).toEqual([
      "branch not relayed",
      "branch not relayed",
      "branch not relayed",
    ]);
    expect(await pushRow.textContent()).toContain("feature/not-relayed");
    const prRow = page.locator(`tr.not-relayed[data-delivery="${prId}"]`);
    expect(await prRow.textContent()).toContain("pull_request opened");
    expect(await prRow.textContent()).toContain("PR #4242");
    for (const repo of ["vendor/backend", "vendor/gone", "vendor/flaky"]) {
      expect(await prRow.locator(`.skip[data-repo="${repo}"]`).textContent()).toMatch(
        /untrusted author.*waiting for the label ci\/ok-to-test/,
      );
    }
    // Newest first; the link opens the per-delivery page.
    const order = await page
      .locator("tr.not-relayed")
      .evaluateAll((trs: PageElement[]) => trs.map((tr) => tr.getAttribute("data-delivery")));
    expect(order.indexOf(prId)).toBeLessThan(order.indexOf(pushId));
    await page.locator("section.not-relayed").screenshot({ path: join(SCREENSHOTS, "not-relayed.png") });
    await prRow.locator("a", { hasText: "details" }).click();
    expect(page.url()).toBe(world.relay.url(`/relay/deliveries/${prId}`));
    expect(await page.locator("body").textContent()).toContain("untrusted-author");

    // The page's PR filter leaves the push out.
    const filtered = await page.goto(world.relay.url("/relay/?upstream=pytorch/pytorch&pr=4242"));
    expect(filtered?.status()).toBe(200);
    expect(
      await page
        .locator("tr.not-relayed")
        .evaluateAll((trs: PageElement[]) => trs.map((tr) => tr.getAttribute("data-delivery"))),
    ).toEqual([prId]);
    await page.close();
  });

  it("fits a phone, and the auto-refresh keeps the reader's place even as new deliveries push the page down", async () => {
    const { page } = await openDashboard({ width: 390, height: 360 });
    expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, "phone.png"), fullPage: true });
    const sectionsBefore = await page.locator("section.upstream").count();
    // The reader looks at the given-up row, 20 px below the top of the screen.
    const row = 'section.upstream tr[data-repo="vendor/gone"][data-status="given_up"]';
    await page.locator(row).evaluate((el) => {
      const target = el as unknown as { scrollIntoView(): void };
      target.scrollIntoView();
      (globalThis as unknown as { scrollBy(x: number, y: number): void }).scrollBy(0, -20);
    });
    const topOf = () =>
      page
        .locator(row)
        .evaluate((el) =>
          Math.round((el as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top),
        );
    const before = await topOf();
    expect(before).toBeGreaterThan(0);
    // A new delivery arrives: on the next refresh its section sits above the reader's row.
    // (Its records are written when it is accepted: no need to wait for the dispatches.)
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "MEMBER",
      number: 900,
      headSha: randomSha(),
    });
    expect(
      (await sendWebhook(world.relay.baseUrl, { event: "pull_request", payload, deliveryId: "scroll-delivery" }))
        .status,
    ).toBe(200);
    await page.waitForEvent("load", { timeout: 90_000 }); // the page reloads itself every 30 s
    await waitUntil(
      async () => (await page.locator("section.upstream").count()) === sectionsBefore + 1,
      30_000,
      "the new delivery on the page",
    );
    await waitUntil(async () => Math.abs((await topOf()) - before) <= 2, 30_000, "the reader's row back where it was");
    await page.close();
  }, 150_000);
});

/**
 * GitHub unreachable by DNS: the relay's GitHub host is a name that cannot resolve (`.invalid` is
 * reserved for that), so the dispatch task's first GitHub call fails in getaddrinfo, as a real DNS
 * outage does. The outbox retries; the page must say so in those words.
 */
describe("dashboard while GitHub cannot be resolved", () => {
  let github: FakeGitHub;
  let relay: RelayServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    github = await startFakeGitHub();
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: {
        RELAY_TOKEN_SECRET: "dashboard-dns-test-secret-0123456789abcdef",
        GHE_HOST: "github.invalid",
        OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
      },
    });
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "MEMBER",
      number: 7,
      headSha: randomSha(),
    });
    expect(
      (await sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId: "dns-delivery" })).status,
    ).toBe(200);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
  });

  it('shows "retrying", the attempt count, "DNS failure" and the next try', async () => {
    await waitUntil(
      async () =>
        (await downstreamNamed(relay.baseUrl, "vendor/backend", (d) => d.attempts >= 1 && d.lastError !== null)) !==
        undefined,
      60_000,
      "a failed attempt recorded",
    );
    const backend = await downstreamNamed(relay.baseUrl, "vendor/backend", () => true);
    expect(backend).toMatchObject({
      dispatchState: "pending",
      lastError: "DNS failure: could not resolve github.invalid",
      state: { name: "retrying" },
    });
    expect(backend?.nextAttemptAt).toEqual(expect.any(String));

    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(relay.url("/relay/"));
    const row = page.locator('section.upstream tr[data-repo="vendor/backend"]');
    const text = (await row.textContent()) ?? "";
    expect(await row.locator(".status.retrying").textContent()).toBe("retrying");
    expect(text).toMatch(
      /\d+ attempts? failed, last: DNS failure: could not resolve github\.invalid; next try \d\d:\d\d:\d\d UTC/,
    );
    expect(await backgroundOf(page, 'section.upstream tr[data-repo="vendor/backend"] .status.retrying')).toBe(
      "rgb(188, 76, 0)",
    );
    await page.screenshot({ path: join(SCREENSHOTS, "retrying-dns.png"), fullPage: true });
    await page.close();
  }, 90_000);
});
