import { mergeNewestFirst, parseRunsQuery, type UpstreamRunView } from "../../../src/dashboard/list-runs";
import { renderDashboard } from "../../../src/dashboard/render-dashboard";
import { listNightlyRuns } from "../../../src/dashboard/list-nightly-runs";
import { recordNightlyReportOps, type NightlyReport } from "../../../src/records/nightly-reports";
import { MemoryStore } from "../../../src/store/memory-store";
import { downstream, relayConfig } from "../../support/relay-config";
import { nightlyReport } from "../callback/nightly/nightly-fixtures";

const SHA = "a".repeat(40);
const OTHER = "b".repeat(40);
const T0 = Date.parse("2026-11-30T03:00:00Z");
const config = relayConfig({
  downstreams: [downstream({ repo: "Nightly/Only", level: "L4", events: [] }), downstream({ repo: "Vendor/Backend" })],
});

async function seeded(reports: NightlyReport[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const report of reports) await store.write(recordNightlyReportOps(report));
  return store;
}

describe("nightly reports in the runs list (SPEC §7)", () => {
  it("files reports under their commit and event, a row per downstream in config order, each report a job", async () => {
    const store = await seeded([
      nightlyReport({ downstream: "Vendor/Backend", jobName: "build", at: T0 }),
      nightlyReport({ downstream: "Vendor/Backend", jobName: "test", conclusion: "failure", at: T0 + 1_000 }),
      nightlyReport({ downstream: "Nightly/Only", level: "L4", jobName: "perf", at: T0 + 2_000 }),
      nightlyReport({ event: "periodic", downstream: "Nightly/Only", level: "L4", jobName: "weekly", at: T0 + 3_000 }),
    ]);
    const runs = await listNightlyRuns(
      store,
      parseRunsQuery({ upstream: "PyTorch/PyTorch", sha: SHA.toUpperCase() }),
      config,
      T0 + 60_000,
    );
    expect(runs.map((r) => [r.event, r.deliveryId, r.receivedAt])).toEqual([
      ["periodic", SHA, new Date(T0 + 3_000).toISOString()],
      ["nightly", SHA, new Date(T0).toISOString()],
    ]);
    const nightly = runs[1];
    expect(nightly.upstream).toEqual({ repo: "pytorch/pytorch", sha: SHA, ref: null, prNumber: null });
    expect(
      nightly.downstreams.map((d) => [d.repo, d.level, d.state.name, d.state.reason, d.jobs.map((j) => j.name)]),
    ).toEqual([
      ["Nightly/Only", "L4", "success", "succeeded", ["perf"]],
      ["Vendor/Backend", "L2", "failure", "1 of 2 jobs failed", ["build", "test"]],
    ]);
    expect(nightly.downstreams[1]).toMatchObject({
      requestId: null,
      transport: null,
      dispatchState: null,
      attempts: 0,
      state: { stuck: null, ageSeconds: 59 },
    });
  });

  it("judges a downstream by its latest run and that run's highest attempt", async () => {
    const store = await seeded([
      nightlyReport({ runId: "1", conclusion: "failure", at: T0 }),
      nightlyReport({ runId: "2", runAttempt: "1", conclusion: "failure", at: T0 + 1_000 }),
      nightlyReport({ runId: "2", runAttempt: "2", conclusion: "success", at: T0 + 2_000 }),
    ]);
    const [run] = await listNightlyRuns(store, parseRunsQuery({}), config, T0 + 10_000);
    expect(run.downstreams[0].state.name).toBe("success");
    expect(run.downstreams[0].jobs).toHaveLength(3);
  });

  it("keeps to the query: another commit or upstream is not listed, a PR has none, and limit caps the entries", async () => {
    const store = await seeded([
      nightlyReport({ sha: SHA, at: T0 }),
      nightlyReport({ sha: OTHER, at: T0 + 1_000 }),
      nightlyReport({ sha: OTHER, upstream: "other/upstream", runId: "900", at: T0 + 2_000 }),
    ]);
    const list = (query: Record<string, string>) => listNightlyRuns(store, parseRunsQuery(query), config, T0 + 10_000);
    expect((await list({ upstream: "pytorch/pytorch", sha: SHA })).map((r) => r.deliveryId)).toEqual([SHA]);
    expect((await list({ upstream: "pytorch/pytorch" })).map((r) => r.deliveryId)).toEqual([OTHER, SHA]);
    expect((await list({})).map((r) => r.upstream.repo)).toEqual([
      "other/upstream",
      "pytorch/pytorch",
      "pytorch/pytorch",
    ]);
    expect(await list({ upstream: "pytorch/pytorch", pr: "5" })).toEqual([]);
    expect(await list({ limit: "1" })).toHaveLength(1);
  });
});

describe("merging dispatches and reports", () => {
  const entry = (deliveryId: string, at: number) =>
    ({ deliveryId, receivedAt: new Date(at).toISOString() }) as UpstreamRunView;

  it("interleaves by time, newest first, keeps each list's own order and stops at the limit", () => {
    const dispatches = [entry("d3", 30), entry("d1", 10)];
    const reports = [entry("n4", 40), entry("n2", 20), entry("n0", 0)];
    expect(mergeNewestFirst(dispatches, reports, 10).map((e) => e.deliveryId)).toEqual(["n4", "d3", "n2", "d1", "n0"]);
    expect(mergeNewestFirst(dispatches, reports, 2).map((e) => e.deliveryId)).toEqual(["n4", "d3"]);
    expect(mergeNewestFirst(dispatches, [], 10)).toEqual(dispatches);
  });
});

describe("nightly reports on the dashboard page", () => {
  it("marks the entry with its kind, links no delivery explanation, and gives each row its own anchor", async () => {
    const store = await seeded([
      nightlyReport({ at: T0 }),
      nightlyReport({ downstream: "Nightly/Only", level: "L4", conclusion: "failure", at: T0 + 1 }),
    ]);
    const runs = await listNightlyRuns(store, parseRunsQuery({}), config, T0 + 1_000);
    const html = renderDashboard(runs, parseRunsQuery({}), null);
    expect(html).toContain(`<span class="report-kind">nightly</span>`);
    expect(html).toContain("nightly report · first reported");
    expect(html).not.toContain("v1/deliveries/");
    expect(html).toContain(`data-anchor="nightly:${SHA}:Nightly/Only"`);
    expect(html).toMatch(/data-repo="Vendor\/Backend" data-status="success"/);
  });
});
