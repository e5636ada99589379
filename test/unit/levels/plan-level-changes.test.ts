import type { LevelsConfig } from "../../../src/config/levels-config";
import { planLevelChanges, type DownstreamEvidence } from "../../../src/levels/plan-level-changes";
import { downstream } from "../../support/relay-config";

const LEVELS: LevelsConfig = {
  windowDays: 14,
  thresholds: {
    L2: { min_pickup_rate: 0.8 },
    L3: { min_success_rate: 0.9, max_p95_queue_minutes: 60 },
    L4: { min_dispatches: 20, min_success_rate: 0.95, max_p95_queue_minutes: 30 },
  },
};

const record = (repo: string, overrides: Partial<DownstreamEvidence> = {}): DownstreamEvidence => ({
  repo,
  dispatches: 50,
  successRate: 0.97,
  pickupRate: 1,
  timeouts: 0,
  queueSeconds: { p95: 600 },
  executionSeconds: { p95: 3600 },
  ...overrides,
});

describe("the level changes the evidence suggests", () => {
  it("promotes one meeting every threshold of the next level, and demotes one below its own", () => {
    const plan = planLevelChanges(
      [
        downstream({ repo: "vendor/good", level: "L3", device: "npu" }),
        downstream({ repo: "vendor/bad", level: "L4" }),
        downstream({ repo: "vendor/fine", level: "L3", device: "x" }),
      ],
      LEVELS,
      [record("Vendor/Good"), record("vendor/bad", { successRate: 0.5 }), record("vendor/fine", { dispatches: 10 })],
    );
    expect(plan.changes).toEqual([
      {
        repo: "vendor/good",
        from: "L3",
        to: "L4",
        kind: "promote",
        why: "meets L4: min_dispatches 20, min_success_rate 0.95, max_p95_queue_minutes 30",
      },
      { repo: "vendor/bad", from: "L4", to: "L3", kind: "demote", why: "below L4: success rate 50% < 95%" },
    ]);
    expect(plan.notes).toEqual([]);
  });

  it("demotes before it promotes, never below L1, and never to a level that asks for nothing", () => {
    const plan = planLevelChanges(
      [
        downstream({ repo: "a/l1", level: "L1" }),
        downstream({ repo: "a/l2", level: "L2" }),
        downstream({ repo: "a/steady", level: "L2" }),
        downstream({ repo: "a/top", level: "L4" }),
      ],
      { windowDays: 14, thresholds: { L1: { min_dispatches: 100 }, L2: { min_pickup_rate: 0.9 } } },
      [record("a/l1"), record("a/l2", { pickupRate: 0.5 }), record("a/steady"), record("a/top")],
    );
    // a/l1 meets L2 but is below its own L1, with nothing under it; a/steady meets L2, but L3 asks for nothing, so it stays.
    expect(plan.changes).toEqual([
      { repo: "a/l2", from: "L2", to: "L1", kind: "demote", why: "below L2: pickup rate 50% < 90%" },
    ]);
    expect(plan.notes).toEqual(["a/l1: below L1: dispatches 50 < 100, and L1 is the lowest level"]);
  });

  it("says nothing of nightly-only downstreams or ones the relay has no evidence for, and says why", () => {
    const plan = planLevelChanges(
      [downstream({ repo: "a/nightly", level: "L2", events: [] }), downstream({ repo: "a/new", level: "L2" })],
      LEVELS,
      [record("a/nightly", { dispatches: 0 })],
    );
    expect(plan).toEqual({
      changes: [],
      notes: [
        "a/nightly: nightly-only, never dispatched: no dispatch evidence to judge",
        "a/new: the relay has no evidence for it (not in its config?)",
      ],
    });
  });
});
