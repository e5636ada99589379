import { judgeLevel, type LevelEvidence } from "../../../src/levels/judge-level";
import { describeFailedThreshold } from "../../../src/levels/describe-failed-threshold";

const evidence = (overrides: Partial<LevelEvidence> = {}): LevelEvidence => ({
  dispatches: 40,
  successRate: 0.95,
  pickupRate: 1,
  timeouts: 1,
  queueSeconds: { p95: 1800 },
  executionSeconds: { p95: 3600 },
  ...overrides,
});

describe("judging evidence against a level's thresholds", () => {
  it("meets a level that asks for nothing, or whose every threshold holds at its limit", () => {
    expect(judgeLevel(evidence(), undefined)).toEqual({ meets: true, failed: [] });
    expect(judgeLevel(evidence(), {})).toEqual({ meets: true, failed: [] });
    const atTheLimits = {
      min_dispatches: 40,
      min_success_rate: 0.95,
      min_pickup_rate: 1,
      max_p95_queue_minutes: 30,
      max_p95_execution_minutes: 60,
      max_timeouts: 1,
    };
    expect(judgeLevel(evidence(), atTheLimits)).toEqual({ meets: true, failed: [] });
  });

  it("is below when any threshold fails, and names each with what the window shows", () => {
    const judged = judgeLevel(evidence({ dispatches: 5, successRate: 0.5, timeouts: 3, queueSeconds: { p95: 7200 } }), {
      min_dispatches: 10,
      min_success_rate: 0.9,
      min_pickup_rate: 0.9,
      max_p95_queue_minutes: 60,
      max_timeouts: 2,
    });
    expect(judged).toEqual({
      meets: false,
      failed: [
        { threshold: "min_dispatches", required: 10, actual: 5 },
        { threshold: "min_success_rate", required: 0.9, actual: 0.5 },
        { threshold: "max_p95_queue_minutes", required: 60, actual: 120 },
        { threshold: "max_timeouts", required: 2, actual: 3 },
      ],
    });
    expect(judged.failed.map(describeFailedThreshold)).toEqual([
      "dispatches 5 < 10",
      "success rate 50% < 90%",
      "p95 queue 120 min > 60 min",
      "timeouts 3 > 2",
    ]);
  });

  it("compares minutes unrounded: a p95 a quarter second over the limit fails", () => {
    expect(judgeLevel(evidence({ executionSeconds: { p95: 3600.25 } }), { max_p95_execution_minutes: 60 })).toEqual({
      meets: false,
      failed: [{ threshold: "max_p95_execution_minutes", required: 60, actual: 60 }],
    });
  });

  it("counts a threshold without evidence as not met: a level is earned by a record, not by silence", () => {
    const silent = evidence({
      dispatches: 0,
      successRate: null,
      pickupRate: null,
      timeouts: 0,
      queueSeconds: { p95: null },
      executionSeconds: { p95: null },
    });
    const judged = judgeLevel(silent, {
      min_success_rate: 0.9,
      min_pickup_rate: 0.9,
      max_p95_queue_minutes: 60,
      max_p95_execution_minutes: 60,
      max_timeouts: 0,
    });
    expect(judged.meets).toBe(false);
    expect(judged.failed.map((f) => [f.threshold, f.actual])).toEqual([
      ["min_success_rate", null],
      ["min_pickup_rate", null],
      ["max_p95_queue_minutes", null],
      ["max_p95_execution_minutes", null],
    ]);
    expect(describeFailedThreshold(judged.failed[0])).toBe("success rate: no evidence (needs ≥ 90%)");
  });
});
