import { listRuns, parseRunsQuery } from "../../../src/dashboard/list-runs";
import { overallStatus, renderDashboard } from "../../../src/dashboard/render-dashboard";
import { MemoryStore } from "../../../src/store/memory-store";
import { seedDispatch } from "../../support/seed-runs";

describe("runs listing", () => {
  it("groups dispatches per upstream delivery, newest first, with each job's state and timings", async () => {
    const store = new MemoryStore();
    await seedDispatch(store, { requestId: "r1", downstream: "vendor/backend", deliveryId: "old", createdAt: 1 }, []);
    await seedDispatch(store, { requestId: "r2", downstream: "Ascend/pytorch", level: "L4", deliveryId: "new", createdAt: 2 }, [
      { jobName: "build", state: "COMPLETED", conclusion: "success", queueTimeSeconds: 12, executionTimeSeconds: 300 },
      { jobName: "test", state: "IN_PROGRESS", conclusion: null, queueTimeSeconds: 20 },
    ]);
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

  it("filters by upstream and sha or PR, case-insensitively", async () => {
    const store = new MemoryStore();
    await seedDispatch(store, { requestId: "a", downstream: "x/y", upstream: { repo: "PyTorch/PyTorch", sha: "b".repeat(40), ref: "refs/pull/9/head", prNumber: 9 } });
    await seedDispatch(store, { requestId: "b", downstream: "x/y", deliveryId: "d2", upstream: { repo: "other/repo", sha: "c".repeat(40), ref: "refs/heads/main", prNumber: null } });
    expect((await listRuns(store, parseRunsQuery({ upstream: "pytorch/pytorch", pr: "9" }))).map((r) => r.downstreams[0].requestId)).toEqual(["a"]);
    expect((await listRuns(store, parseRunsQuery({ upstream: "pytorch/pytorch", sha: "B".repeat(40) }))).map((r) => r.downstreams[0].requestId)).toEqual(["a"]);
    expect((await listRuns(store, parseRunsQuery({ upstream: "other/repo" }))).map((r) => r.downstreams[0].requestId)).toEqual(["b"]);
  });

  it.each([
    [{ sha: "abc1234" }, "sha and pr need upstream"],
    [{ upstream: "a/b", sha: "abc1234", pr: "3" }, "not both"],
    [{ upstream: "not a repo" }, "owner/repo"],
    [{ upstream: "a/b", sha: "zzz" }, "hex"],
    [{ limit: "100000" }, "limit"],
  ])("refuses the bad query %j with validation-failed", (query, message) => {
    expect(() => parseRunsQuery(query)).toThrow(expect.objectContaining({ kind: "validation-failed", message: expect.stringContaining(message) }));
  });
});

describe("dashboard page", () => {
  const view = (overrides: Partial<Parameters<typeof overallStatus>[0]> = {}) => ({
    requestId: "r",
    repo: "vendor/backend",
    level: "L2" as const,
    transport: "dispatch" as const,
    dispatchState: "dispatched" as const,
    dispatchedAt: null,
    lastError: null,
    jobs: [],
    ...overrides,
  });
  const job = (state: "IN_PROGRESS" | "COMPLETED" | "TIMED_OUT", conclusion: string | null, scope: "job" | "run" = "job") => ({
    scope,
    name: "build",
    runId: "1",
    runAttempt: "1",
    state,
    conclusion,
    queueTimeSeconds: null,
    executionTimeSeconds: null,
    url: null,
  });

  it.each([
    [view({ dispatchState: "failed" }), "dispatch_failed"],
    [view({ dispatchState: "pending" }), "pending"],
    [view(), "dispatched"],
    [view({ jobs: [job("COMPLETED", "success"), job("IN_PROGRESS", null)] }), "in_progress"],
    [view({ jobs: [job("COMPLETED", "success"), job("COMPLETED", "failure")] }), "failure"],
    [view({ jobs: [job("COMPLETED", "success"), job("COMPLETED", "skipped")] }), "success"],
    [view({ jobs: [job("COMPLETED", "failure"), job("COMPLETED", "success", "run")] }), "success"],
    [view({ jobs: [job("TIMED_OUT", "timed_out")] }), "timed_out"],
  ])("summarises a downstream as one status (%#)", (downstream, expected) => {
    expect(overallStatus(downstream)).toBe(expected);
  });

  it("escapes everything downstreams report and links only http(s) URLs", () => {
    const html = renderDashboard(
      [
        {
          upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", prNumber: 1 },
          event: "pull_request",
          deliveryId: "d",
          receivedAt: "2026-11-22T01:00:00.000Z",
          downstreams: [
            view({
              jobs: [
                { ...job("COMPLETED", "success"), name: "<script>alert(1)</script>", url: "javascript:alert(1)" },
                { ...job("COMPLETED", "success"), name: "ok", url: "https://ci.example/run/1" },
              ],
            }),
          ],
        },
      ],
      parseRunsQuery({}),
    );
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("javascript:");
    expect(html).toContain('href="https://ci.example/run/1"');
  });
});
