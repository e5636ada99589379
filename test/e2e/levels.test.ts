import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { JobRecord } from "../../src/records/jobs";
import type { DownstreamsSummary } from "../../src/dashboard/summarize-downstreams";
import { RedisStore } from "../../src/store/redis-store";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { testRedisUrl } from "../support/redis-prefix";
import { seedDispatch } from "../support/seed-runs";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";

const BIN = resolve(__dirname, "../../bin/ci-relay.js");
const HOUR = 3600_000;
const DAY = 24 * HOUR;

const CONFIG = `version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - repo: Ascend/pytorch
    level: L3
    device: npu
    oncalls: [alice]
  - repo: vendor/flaky
    level: L2
levels:
  L2: {min_pickup_rate: 0.8}
  L3: {min_success_rate: 0.9}
  L4: {min_dispatches: 4, min_success_rate: 0.95, max_p95_queue_minutes: 30}
`;

describe("level evidence from records in real Redis, through the server and levels --plan", () => {
  let github: FakeGitHub;
  let relay: RelayServer;
  let store: RedisStore;
  let dir: string;
  const now = Date.now();
  /** a job that started `queue` s after its dispatch, ran `run` s, and concluded */
  const finished = (createdAt: number, conclusion: string, queue: number, run: number): Partial<JobRecord> => ({
    jobName: "build",
    conclusion,
    queueTimeSeconds: queue,
    executionTimeSeconds: run,
    inProgressAt: createdAt + queue * 1000,
    completedAt: createdAt + (queue + run) * 1000,
    updatedAt: createdAt + (queue + run) * 1000,
  });

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: { RELAY_TOKEN_SECRET: "relay-token-secret-for-levels-tests-0123456789" },
    });
    store = new RedisStore(testRedisUrl(), relay.redisPrefix);
    // Ascend/pytorch: four successes in the window (queue 1..4 min, runs 10..40 min), one failure 20 days ago.
    for (const i of [1, 2, 3, 4]) {
      const createdAt = now - i * DAY;
      await seedDispatch(
        store,
        {
          requestId: `a${i}`,
          deliveryId: `da${i}`,
          downstream: "Ascend/pytorch",
          level: "L3",
          createdAt,
          dispatchedAt: createdAt,
        },
        [finished(createdAt, "success", 60 * i, 600 * i)],
      );
    }
    const old = now - 20 * DAY;
    await seedDispatch(
      store,
      {
        requestId: "a-old",
        deliveryId: "da-old",
        downstream: "Ascend/pytorch",
        level: "L3",
        createdAt: old,
        dispatchedAt: old,
      },
      [finished(old, "failure", 5, 5)],
    );
    // vendor/flaky: a success, a failure, and one never picked up.
    const f = (days: number) => now - days * DAY;
    await seedDispatch(
      store,
      { requestId: "f1", deliveryId: "df1", downstream: "vendor/flaky", createdAt: f(1), dispatchedAt: f(1) },
      [finished(f(1), "success", 30, 300)],
    );
    await seedDispatch(
      store,
      { requestId: "f2", deliveryId: "df2", downstream: "vendor/flaky", createdAt: f(2), dispatchedAt: f(2) },
      [finished(f(2), "failure", 90, 900)],
    );
    await seedDispatch(
      store,
      { requestId: "f3", deliveryId: "df3", downstream: "vendor/flaky", createdAt: f(3), dispatchedAt: f(3) },
      [{ jobName: "build", state: "TIMED_OUT", conclusion: "timed_out", inProgressAt: null, updatedAt: f(3) + HOUR }],
    );
    dir = mkdtempSync(join(tmpdir(), "ci-relay-levels-e2e-"));
    writeFileSync(join(dir, "relay.yml"), CONFIG);
  }, 90_000);

  afterAll(async () => {
    await store?.close();
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("GET /relay/v1/downstreams answers the numbers worked out by hand, each judged against its level", async () => {
    const answer = (await (await fetch(relay.url("/relay/v1/downstreams"))).json()) as DownstreamsSummary & {
      ok: boolean;
    };
    expect(answer).toEqual({
      ok: true,
      windowDays: 14,
      downstreams: [
        {
          repo: "Ascend/pytorch",
          level: "L3",
          oncalls: ["alice"],
          dispatches: 4, // a1..a4; a-old is 20 days old
          successRate: 1,
          pickupRate: 1,
          timeouts: 0,
          queueSeconds: { p50: 120, p95: 240 }, // 60, 120, 180, 240
          executionSeconds: { p50: 1200, p95: 2400 }, // 600, 1200, 1800, 2400
          lastReportAt: new Date(now - DAY + 660_000).toISOString(), // a1 finished 60 + 600 s after its dispatch
          meetsLevel: true,
          failedThresholds: [],
          truncated: false,
        },
        {
          repo: "vendor/flaky",
          level: "L2",
          oncalls: [],
          dispatches: 3,
          successRate: 0.333, // f1 of f1..f3
          pickupRate: 0.667, // f1, f2 of f1..f3
          timeouts: 1,
          queueSeconds: { p50: 30, p95: 90 },
          executionSeconds: { p50: 300, p95: 900 },
          lastReportAt: new Date(now - DAY + 330_000).toISOString(),
          meetsLevel: false,
          failedThresholds: [{ threshold: "min_pickup_rate", required: 0.8, actual: 0.667 }],
          truncated: false,
        },
      ],
    });
  });

  it("?window_days narrows the window, and one outside 1..30 or not a number is refused as validation-failed", async () => {
    const narrow = (await (await fetch(relay.url("/relay/v1/downstreams?window_days=3"))).json()) as DownstreamsSummary;
    // a1 and a2; a3 was created three days before the test began, so before the window's start.
    expect([narrow.windowDays, narrow.downstreams[0].dispatches]).toEqual([3, 2]);
    for (const bad of ["0", "31", "abc", "1.5"]) {
      const answer = await fetch(relay.url(`/relay/v1/downstreams?window_days=${bad}`));
      expect([bad, answer.status, ((await answer.json()) as { failureKind: string }).failureKind]).toEqual([
        bad,
        400,
        "validation-failed",
      ]);
    }
  });

  it("the dashboard's summary marks each downstream meets or below, with the failing threshold in words", async () => {
    const page = await (await fetch(relay.url("/relay/"))).text();
    const row = (repo: string) =>
      new RegExp(`<tr class="summary" data-repo="${repo.replace("/", "\\/")}"[\\s\\S]*?</tr>`).exec(page)?.[0] ?? "";
    expect(row("Ascend/pytorch")).toContain('L3 <span class="status success level-verdict">meets</span>');
    expect(row("vendor/flaky")).toContain(
      'L2 <span class="status failure level-verdict">below</span> <span class="reason">pickup rate 66.7% &lt; 80%</span>',
    );
  });

  it("levels --plan prints the promote and the demote as a diff that patch takes, and never writes the file", () => {
    const path = join(dir, "relay.yml");
    const before = statSync(path).mtimeMs;
    const run = spawnSync(
      process.execPath,
      [BIN, "levels", "--plan", "--url", relay.baseUrl, "--config", "relay.yml"],
      { cwd: dir, env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" },
    );
    expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toBe(
      [
        `# evidence of the last 14 days from ${relay.baseUrl}; thresholds from relay.yml`,
        "# promote Ascend/pytorch L3 -> L4: meets L4: min_dispatches 4, min_success_rate 0.95, max_p95_queue_minutes 30",
        "# demote vendor/flaky L2 -> L1: below L2: pickup rate 66.7% < 80%",
        "--- a/relay.yml",
        "+++ b/relay.yml",
        "@@ -2,11 +2,10 @@",
        " upstreams: [pytorch/pytorch]",
        " downstreams:",
        "   - repo: Ascend/pytorch",
        "-    level: L3",
        "-    device: npu",
        "+    level: L4",
        "     oncalls: [alice]",
        "   - repo: vendor/flaky",
        "-    level: L2",
        "+    level: L1",
        " levels:",
        "   L2: {min_pickup_rate: 0.8}",
        "   L3: {min_success_rate: 0.9}",
        "",
      ].join("\n"),
    );
    expect(readFileSync(path, "utf8")).toBe(CONFIG);
    expect(statSync(path).mtimeMs).toBe(before);
    writeFileSync(join(dir, "plan.diff"), run.stdout);
    const check = spawnSync("patch", ["-p1", "--dry-run", "-i", "plan.diff"], { cwd: dir, encoding: "utf8" });
    expect({ code: check.status, out: check.stdout.trim() }).toEqual({ code: 0, out: "checking file relay.yml" });
  });
});
