import { EVIDENCE_MAX_DISPATCHES, loadDownstreamsSummary } from "../../../src/dashboard/load-downstreams-summary";
import type { JobRecord } from "../../../src/records/jobs";
import { percentiles, summarizeDownstreams, type DispatchHistory } from "../../../src/dashboard/summarize-downstreams";
import { MemoryStore } from "../../../src/store/memory-store";
import { downstream, relayConfig } from "../../support/relay-config";
import { dispatchRecord } from "../../support/dispatch-fixtures";
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
    const done = (conclusion: string, q: number, e: number, updatedAt: number, jobName = "build") => ({
      jobName,
      conclusion,
      queueTimeSeconds: q,
      executionTimeSeconds: e,
      inProgressAt: updatedAt - e * 1000,
      completedAt: updatedAt,
      updatedAt,
    });
    // vendor/backend: 6 dispatches in the window (2 success, 1 failure, 1 unpicked timeout, 1 just queued, 1 given up), 1 too old.
    await seedDispatch(store, { requestId: "b1", downstream: "vendor/backend", deliveryId: "d1", ...at(10) }, [
      done("success", 10, 100, NOW - 10 * DAY + HOUR),
      done("success", 20, 200, NOW - 10 * DAY + HOUR, "test"),
    ]);
    await seedDispatch(store, { requestId: "b2", downstream: "vendor/backend", deliveryId: "d2", ...at(5) }, [
      done("failure", 30, 300, NOW - 5 * DAY + HOUR),
    ]);
    await seedDispatch(store, { requestId: "b3", downstream: "vendor/backend", deliveryId: "d3", ...at(2) }, [
      done("success", 40, 400, NOW - 2 * DAY + HOUR),
    ]);
    await seedDispatch(store, { requestId: "b4", downstream: "vendor/backend", deliveryId: "d4", ...at(1) }, [
      {
        jobName: "build",
        state: "TIMED_OUT",
        conclusion: "timed_out",
        inProgressAt: null,
        updatedAt: NOW - DAY + 2 * HOUR,
      },
    ]);
    await seedDispatch(store, {
      requestId: "b5",
      downstream: "vendor/backend",
      deliveryId: "d5",
      createdAt: NOW - 600_000,
      dispatchedAt: NOW - 599_000,
    });
    await seedDispatch(store, {
      requestId: "b6",
      downstream: "vendor/backend",
      deliveryId: "d6",
      ...at(3),
      state: "failed",
      dispatchedAt: null,
      lastError: "HTTP 422 from GitHub",
    });
    await seedDispatch(store, { requestId: "b0", downstream: "vendor/backend", deliveryId: "d0", ...at(15) }, [
      done("success", 999, 999, NOW - 15 * DAY + HOUR),
    ]);
    // Ascend/pytorch, spelt differently in its record: one run in progress.
    await seedDispatch(store, { requestId: "a1", downstream: "ascend/PyTorch", deliveryId: "d7", ...at(0.1) }, [
      {
        jobName: "npu",
        state: "IN_PROGRESS",
        conclusion: null,
        queueTimeSeconds: 5,
        inProgressAt: NOW - HOUR,
        updatedAt: NOW - HOUR,
      },
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
          meetsLevel: true, // no levels: thresholds, nothing asked
          failedThresholds: [],
          truncated: false,
        },
        {
          repo: "Ascend/pytorch",
          level: "L4",
          oncalls: ["bob", "carol"],
          dispatches: 1,
          successRate: null,
          pickupRate: 1,
          timeouts: 0,
          queueSeconds: { p50: 5, p95: 5 },
          executionSeconds: { p50: null, p95: null },
          lastReportAt: new Date(NOW - HOUR).toISOString(),
          meetsLevel: true,
          failedThresholds: [],
          truncated: false,
        },
        {
          repo: "idle/repo",
          level: "L1",
          oncalls: [],
          dispatches: 0,
          successRate: null,
          pickupRate: null,
          timeouts: 0,
          queueSeconds: { p50: null, p95: null },
          executionSeconds: { p50: null, p95: null },
          lastReportAt: null,
          meetsLevel: true,
          failedThresholds: [],
          truncated: false,
        },
      ],
    });
  });

  it("level evidence from a seeded history equals the numbers worked out by hand, judged against its level", () => {
    const sent = (id: string, repo: string, daysAgo: number, jobs: Partial<JobRecord>[]): DispatchHistory => {
      const createdAt = NOW - daysAgo * DAY;
      const record = dispatchRecord({
        requestId: id,
        deliveryId: `d-${id}`,
        downstream: repo,
        createdAt,
        dispatchedAt: createdAt + 1_000,
      });
      const job = (j: Partial<JobRecord>, i: number): JobRecord => ({
        requestId: id,
        scope: "job",
        jobName: `job-${i}`,
        runId: "1",
        runAttempt: "1",
        state: "COMPLETED",
        conclusion: "success",
        detailsUrl: null,
        workflowName: "CI",
        inProgressAt: createdAt + 60_000,
        completedAt: createdAt + 3_600_000,
        queueTimeSeconds: null,
        executionTimeSeconds: null,
        updatedAt: createdAt + 3_600_000,
        ...j,
      });
      return { record, jobs: jobs.map(job) };
    };
    const history = [
      sent("n1", "vendor/npu", 1, [
        { queueTimeSeconds: 60, executionTimeSeconds: 600 },
        { queueTimeSeconds: 120, executionTimeSeconds: 1200 },
      ]),
      sent("n2", "vendor/npu", 2, [{ conclusion: "failure", queueTimeSeconds: 30, executionTimeSeconds: 300 }]),
      sent("n3", "vendor/npu", 3, [{ queueTimeSeconds: 600, executionTimeSeconds: 900 }]),
      sent("n4", "vendor/npu", 4, [
        { state: "TIMED_OUT", conclusion: "timed_out", inProgressAt: null, completedAt: null },
      ]),
      sent("n5", "vendor/npu", 20, [{ conclusion: "failure", queueTimeSeconds: 9_999, executionTimeSeconds: 9_999 }]), // outside the window
      sent("c1", "vendor/cpu", 1, [{ queueTimeSeconds: 10, executionTimeSeconds: 100 }]),
      sent("c2", "vendor/cpu", 5, [{ queueTimeSeconds: 20, executionTimeSeconds: 200 }]),
    ];
    const summary = summarizeDownstreams(
      {
        downstreams: [
          downstream({ repo: "vendor/npu", level: "L3", device: "npu" }),
          downstream({ repo: "vendor/cpu", level: "L2" }),
        ],
        levels: {
          windowDays: 14,
          thresholds: {
            L2: { min_success_rate: 0.8 },
            L3: { min_dispatches: 3, min_success_rate: 0.9, max_p95_queue_minutes: 60, max_timeouts: 0 },
          },
        },
        history,
        truncated: new Set(),
      },
      14,
      NOW,
    );
    expect(summary.downstreams[0]).toEqual({
      repo: "vendor/npu",
      level: "L3",
      oncalls: [],
      dispatches: 4, // n1..n4; n5 is 20 days old
      successRate: 0.5, // n1, n3 of n1..n4
      pickupRate: 0.75, // n1..n3 got callbacks; n4 timed out unpicked
      timeouts: 1,
      queueSeconds: { p50: 60, p95: 600 }, // 30, 60, 120, 600: ranks ceil(0.5·4) = 2 and ceil(0.95·4) = 4
      executionSeconds: { p50: 600, p95: 1200 }, // 300, 600, 900, 1200
      lastReportAt: new Date(NOW - DAY + 3_600_000).toISOString(), // n1's jobs finished an hour after its dispatch
      meetsLevel: false,
      failedThresholds: [
        { threshold: "min_success_rate", required: 0.9, actual: 0.5 },
        { threshold: "max_timeouts", required: 0, actual: 1 },
      ], // 4 dispatches >= 3 and a p95 queue of 10 min <= 60 are met
      truncated: false,
    });
    expect(summary.downstreams[1]).toMatchObject({
      repo: "vendor/cpu",
      dispatches: 2,
      successRate: 1,
      pickupRate: 1,
      queueSeconds: { p50: 10, p95: 20 },
      meetsLevel: true,
      failedThresholds: [],
    });
  });

  it("reads each downstream's own window: a busy neighbour neither hides a quiet one nor is read past its cap", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const config = relayConfig({
      downstreams: [downstream({ repo: "busy/repo" }), downstream({ repo: "quiet/repo" })],
    });
    await seedDispatch(store, {
      requestId: "q1",
      downstream: "quiet/repo",
      deliveryId: "dq",
      createdAt: NOW - 10 * DAY,
      dispatchedAt: NOW - 10 * DAY,
    });
    for (let i = 0; i <= EVIDENCE_MAX_DISPATCHES; i++) {
      await seedDispatch(store, {
        requestId: `b${i}`,
        downstream: "busy/repo",
        deliveryId: `db${i}`,
        createdAt: NOW - DAY + i,
        dispatchedAt: NOW - DAY + i,
      });
    }
    const summary = await loadDownstreamsSummary(store, config, undefined, NOW);
    expect(summary.downstreams.map((d) => [d.repo, d.dispatches, d.truncated])).toEqual([
      ["busy/repo", EVIDENCE_MAX_DISPATCHES, true],
      ["quiet/repo", 1, false],
    ]);
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
