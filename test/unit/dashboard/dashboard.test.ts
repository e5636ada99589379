import { listRuns, parseRunsQuery } from "../../../src/dashboard/list-runs";
import { createHash } from "node:crypto";
import { expect } from "@jest/globals";
import type { StateName } from "../../../src/dashboard/downstream-state";
import type { DownstreamView, JobView, UpstreamRunView } from "../../../src/dashboard/list-runs";
import { DASHBOARD_CSP, renderDashboard } from "../../../src/dashboard/render-dashboard";
import { MemoryStore } from "../../../src/store/memory-store";
import { downstream, relayConfig } from "../../support/relay-config";
import { seedDispatch } from "../../support/seed-runs";

describe("runs listing", () => {
  it("groups dispatches per upstream delivery, newest first, with each job's state and timings", async () => {
    const store = new MemoryStore();
    await seedDispatch(store, { requestId: "r1", downstream: "vendor/backend", deliveryId: "old", createdAt: 1 }, []);
    await seedDispatch(
      store,
      { requestId: "r2", downstream: "Ascend/pytorch", level: "L4", deliveryId: "new", createdAt: 2 },
      [
        {
          jobName: "build",
          state: "COMPLETED",
          conclusion: "success",
          queueTimeSeconds: 12,
          executionTimeSeconds: 300,
        },
        { jobName: "test", state: "IN_PROGRESS", conclusion: null, queueTimeSeconds: 20 },
      ],
    );
    const runs = await listRuns(store, parseRunsQuery({}));
    expect(runs.map((r) => r.deliveryId)).toEqual(["new", "old"]);
    expect(runs[0].downstreams[0]).toMatchObject({
      repo: "Ascend/pytorch",
      level: "L4",
      jobs: [
        { name: "build", state: "COMPLETED", conclusion: "success", queueTimeSeconds: 12, executionTimeSeconds: 300 },
        { name: "test", state: "IN_PROGRESS", queueTimeSeconds: 20 },
      ],
    });
  });

  it("gives each downstream its configured oncalls, and none to one no longer configured", async () => {
    const store = new MemoryStore();
    await seedDispatch(store, { requestId: "r1", downstream: "Vendor/Backend", deliveryId: "d", createdAt: 1 });
    await seedDispatch(store, { requestId: "r2", downstream: "gone/away", deliveryId: "d", createdAt: 2 });
    const config = relayConfig({ downstreams: [downstream({ repo: "vendor/backend", oncalls: ["alice"] })] });
    const [run] = await listRuns(store, parseRunsQuery({}), config);
    expect(run.downstreams.map((d) => [d.repo, d.oncalls])).toEqual([
      ["Vendor/Backend", ["alice"]],
      ["gone/away", []],
    ]);
  });

  it("filters by upstream and sha or PR, case-insensitively", async () => {
    const store = new MemoryStore();
    await seedDispatch(store, {
      requestId: "a",
      downstream: "x/y",
      upstream: { repo: "PyTorch/PyTorch", sha: "b".repeat(40), ref: "refs/pull/9/head", prNumber: 9 },
    });
    await seedDispatch(store, {
      requestId: "b",
      downstream: "x/y",
      deliveryId: "d2",
      upstream: { repo: "other/repo", sha: "c".repeat(40), ref: "refs/heads/main", prNumber: null },
    });
    expect(
      (await listRuns(store, parseRunsQuery({ upstream: "pytorch/pytorch", pr: "9" }))).map(
        (r) => r.downstreams[0].requestId,
      ),
    ).toEqual(["a"]);
    expect(
      (await listRuns(store, parseRunsQuery({ upstream: "pytorch/pytorch", sha: "B".repeat(40) }))).map(
        (r) => r.downstreams[0].requestId,
      ),
    ).toEqual(["a"]);
    expect(
      (await listRuns(store, parseRunsQuery({ upstream: "other/repo" }))).map((r) => r.downstreams[0].requestId),
    ).toEqual(["b"]);
  });

  it("lists each delivery's downstreams in config order with their state, reason and retry details", async () => {
    const now = 1_800_000_600_000;
    const store = new MemoryStore();
    const config = relayConfig({ downstreams: [downstream({ repo: "z/first" }), downstream({ repo: "a/second" })] });
    await seedDispatch(store, { requestId: "r-a", downstream: "a/second", deliveryId: "d", createdAt: now - 60_000 });
    await seedDispatch(store, {
      requestId: "r-z",
      downstream: "Z/First",
      deliveryId: "d",
      createdAt: now - 61_000,
      state: "pending",
      dispatchedAt: null,
      attempts: 2,
      lastError: "connection refused",
      nextAttemptAt: now + 30_000,
    });
    const [run] = await listRuns(store, parseRunsQuery({}), config, now);
    expect(run.receivedAt).toBe(new Date(now - 61_000).toISOString());
    expect(run.receivedAtSource).toBe("relay");
    expect(run.downstreams.map((d) => [d.repo, d.state.name])).toEqual([
      ["Z/First", "retrying"],
      ["a/second", "queued"],
    ]);
    expect(run.downstreams[0]).toMatchObject({
      attempts: 2,
      lastError: "connection refused",
      nextAttemptAt: new Date(now + 30_000).toISOString(),
      state: {
        reason: "2 attempts failed, last: connection refused; next try 08:10:30 UTC",
        ageSeconds: 61,
        stuck: null,
      },
    });
  });

  it.each([
    [{ sha: "abc1234" }, "sha and pr need upstream"],
    [{ upstream: "a/b", sha: "abc1234", pr: "3" }, "not both"],
    [{ upstream: "not a repo" }, "owner/repo"],
    [{ upstream: "a/b", sha: "zzz" }, "hex"],
    [{ limit: "100000" }, "limit"],
  ])("refuses the bad query %j with validation-failed", (query, message) => {
    expect(() => parseRunsQuery(query)).toThrow(
      expect.objectContaining({ kind: "validation-failed", message: expect.stringContaining(message) }),
    );
  });
});

describe("dashboard page", () => {
  const state = (name: StateName, stuck: string | null = null) => ({
    name,
    reason: `reason of ${name}`,
    since: null,
    ageSeconds: 90,
    stuck,
  });
  const view = (overrides: Partial<DownstreamView> = {}): DownstreamView => ({
    requestId: "r",
    repo: "vendor/backend",
    level: "L2",
    transport: "dispatch",
    dispatchState: "dispatched",
    state: state("queued"),
    dispatchedAt: null,
    lastError: null,
    attempts: 1,
    nextAttemptAt: null,
    failedAt: null,
    oncalls: [],
    jobs: [],
    ...overrides,
  });
  const job = (name: string, url: string | null): JobView => ({
    scope: "job",
    name,
    runId: "1",
    runAttempt: "1",
    state: "COMPLETED",
    conclusion: "success",
    queueTimeSeconds: null,
    executionTimeSeconds: null,
    url,
    inProgressAt: null,
    completedAt: null,
  });
  const run = (downstreams: DownstreamView[], deliveryId = "d"): UpstreamRunView => ({
    upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", prNumber: 1 },
    event: "pull_request",
    deliveryId,
    receivedAt: "2026-11-22T01:00:00.000Z",
    receivedAtSource: "relay",
    downstreams,
  });

  it("escapes everything downstreams report and links only http(s) URLs", () => {
    const html = renderDashboard(
      [
        run(
          [
            view({
              repo: "x/<b>y",
              jobs: [job("<script>alert(1)</script>", "javascript:alert(1)"), job("ok", "https://ci.example/run/1")],
            }),
          ],
          '"><img src=x>',
        ),
      ],
      parseRunsQuery({}),
      { windowDays: 14, downstreams: [] },
    );
    expect(html.match(/<script>/g)).toHaveLength(1); // the page's own refresh script
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("x/&lt;b&gt;y");
    expect(html).not.toContain("<img");
    expect(html).toContain('href="v1/deliveries/%22%3E%3Cimg%20src%3Dx%3E"');
    expect(html).not.toContain("javascript:");
    expect(html).toContain('href="https://ci.example/run/1"');
  });

  it("names the oncalls of a downstream that failed, timed out, was given up or is stuck, and of no other", () => {
    const oncalls = ["alice", "<b>bob</b>"];
    const html = renderDashboard(
      [
        run([
          view({ repo: "a/failed", state: state("failure"), oncalls }),
          view({ repo: "b/late", state: state("timed_out"), oncalls }),
          view({ repo: "c/lost", state: state("given_up"), oncalls }),
          view({ repo: "d/stuck", state: state("queued", "not picked up"), oncalls }),
          view({ repo: "e/ok", state: state("success"), oncalls }),
          view({ repo: "f/busy", state: state("in_progress"), oncalls }),
          view({ repo: "g/nobody", state: state("failure") }),
        ]),
      ],
      parseRunsQuery({}),
      null,
    );
    // The commit's table (the stuck list above it repeats stuck rows, anchored `stuck:<id>`).
    const rowOf = (repo: string) =>
      html.split("</tr>").find((row) => row.includes(`data-repo="${repo}"`) && row.includes('data-anchor="r"')) ?? "";
    for (const repo of ["a/failed", "b/late", "c/lost", "d/stuck"])
      expect(rowOf(repo)).toContain("oncalls: alice, &lt;b&gt;bob&lt;/b&gt;");
    for (const repo of ["e/ok", "f/busy", "g/nobody"]) expect(rowOf(repo)).not.toContain("oncalls:");
  });

  it("shows every state's words and reason, stuck work first", () => {
    const html = renderDashboard(
      [
        run([
          view({ repo: "a/ok", state: state("success") }),
          view({ repo: "b/late", state: state("queued", "not picked up within its 60 min pickup timeout") }),
        ]),
      ],
      parseRunsQuery({}),
      null,
    );
    expect(html.indexOf("Stuck (1)")).toBeLessThan(html.indexOf('class="upstream"'));
    expect(html).toContain("not picked up within its 60 min pickup timeout");
    expect(html).toContain("reason of success · for 1 min 30 s");
    expect(html).toMatch(/<span class="status queued">queued<\/span>/);
  });

  it("allows exactly its own style and script by hash, and nothing from elsewhere", () => {
    const html = renderDashboard([], parseRunsQuery({}), null);
    const digest = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    expect(DASHBOARD_CSP).toContain(`style-src ${digest(style)};`);
    expect(DASHBOARD_CSP).toContain(`script-src ${digest(script)};`);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_CSP).not.toContain("unsafe-inline");
    expect(html).toContain('<noscript><meta http-equiv="refresh"');
  });
});
