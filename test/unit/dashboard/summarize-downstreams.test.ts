import { loadDownstreamsSummary } from "../../../src/dashboard/load-downstreams-summary";
import { percentiles } from "../../../src/dashboard/summarize-downstreams";
import { MemoryStore } from "../../../src/store/memory-store";
import { downstream, relayConfig } from "../../support/relay-config";
import { seedDispatch } from "../../support/seed-runs";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe("per-downstream summary (SPEC §7)", () => {
  it("computes each downstream's record over the window, in config order, from stored history", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const config = relayConfig({
      downstreams: [
        downstream({ repo: "vendor/backend", oncalls: ["alice"] }),
        downstream({ repo: "Ascend/pytorch", level: "L4", oncalls: ["bob", "carol"] }),
        downstream({ repo: "idle/repo", level: "L1" }),
      ],
    });
    const at = (daysAgo: number) => ({ createdAt: NOW - daysAgo * DAY, dispatchedAt: NOW - daysAgo * DAY + 1_000 });
    const done = (conclusion: string, q: number, e: number, updatedAt: number, jobName = "build") => ({ jobName, conclusion, queueTimeSeconds: q, executionTimeSeconds: e, inProgressAt: updatedAt - e * 1000, completedAt: updatedAt, updatedAt });
    // vendor/backend: 6 dispatches in the window (2 success, 1 failure, 1 unpicked timeout, 1 just queued, 1 given up), 1 too old.
    await seedDispatch(store, { requestId: "b1", downstream: "vendor/backend", deliveryId: "d1", ...at(10) }, [done("success", 10, 100, NOW - 10 * DAY + HOUR), done("success", 20, 200, NOW - 10 * DAY + HOUR, "test")]);
    await seedDispatch(store, { requestId: "b2", downstream: "vendor/backend", deliveryId: "d2", ...at(5) }, [done("failure", 30, 300, NOW - 5 * DAY + HOUR)]);
    await seedDispatch(store, { requestId: "b3", downstream: "vendor/backend", deliveryId: "d3", ...at(2) }, [done("success", 40, 400, NOW - 2 * DAY + HOUR)]);
    await seedDispatch(store, { requestId: "b4", downstream: "vendor/backend", deliveryId: "d4", ...at(1) }, [
      { jobName: "build", state: "TIMED_OUT", conclusion: "timed_out", inProgressAt: null, updatedAt: NOW - DAY + 2 * HOUR },
    ]);
    await seedDispatch(store, { requestId: "b5", downstream: "vendor/backend", deliveryId: "d5", createdAt: NOW - 600_000, dispatchedAt: NOW - 599_000 });
    await seedDispatch(store, { requestId: "b6", downstream: "vendor/backend", deliveryId: "d6", ...at(3), state: "failed", dispatchedAt: null, lastError: "HTTP 422 from GitHub" });
    await seedDispatch(store, { requestId: "b0", downstream: "vendor/backend", deliveryId: "d0", ...at(15) }, [done("success", 999, 999, NOW - 15 * DAY + HOUR)]);
    // Ascend/pytorch, spelt differently in its record: one run in progress.
    await seedDispatch(store, { requestId: "a1", downstream: "ascend/PyTorch", deliveryId: "d7", ...at(0.1) }, [
      { jobName: "npu", state: "IN_PROGRESS", conclusion: null, queueTimeSeconds: 5, inProgressAt: NOW - HOUR, updatedAt: NOW - HOUR },
    ]);

    const summary = await loadDownstreamsSummary(store, config, 14, NOW);

    expect(summary).toEqual({
      windowDays: 14,
      downstreams: [
        {
          repo: "vendor/backend",
          level: "L2",
          oncalls: ["alice"],
          dispatches: 6,
          successRate: 0.5, // b1, b3 of b1..b4 (b5 not finished, b6 never sent)
          pickupRate: 0.75, // b1..b3 of b1..b4 (b5 still within its pickup timeout)
          timeouts: 1,
          queueSeconds: { p50: 20, p95: 40 }, // 10, 20, 30, 40
          executionSeconds: { p50: 200, p95: 400 }, // 100, 200, 300, 400
          lastReportAt: new Date(NOW - 2 * DAY + HOUR).toISOString(), // b3's result: b4's timeout is the relay's, not a report
          meetsLevel: null,
        },
        { repo: "Ascend/pytorch", level: "L4", oncalls: ["bob", "carol"], dispatches: 1, successRate: null, pickupRate: 1, timeouts: 0, queueSeconds: { p50: 5, p95: 5 }, executionSeconds: { p50: null, p95: null }, lastReportAt: new Date(NOW - HOUR).toISOString(), meetsLevel: null },
        { repo: "idle/repo", level: "L1", oncalls: [], dispatches: 0, successRate: null, pickupRate: null, timeouts: 0, queueSeconds: { p50: null, p95: null }, executionSeconds: { p50: null, p95: null }, lastReportAt: null, meetsLevel: null },
      ],
    });
  });

  it.each([
    [[], { p50: null, p95: null }],
    [[7], { p50: 7, p95: 7 }],
    [[null, 3, 1, 2], { p50: 2, p95: 3 }],
    [Array.from({ length: 20 }, (_, i) => i + 1), { p50: 10, p95: 19 }],
  ])("nearest-rank percentiles of %j", (values, expected) => {
    expect(percentiles(values)).toEqual(expected);
  });
});
