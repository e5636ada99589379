import { checkConclusion, supersededState } from "../../../src/checks/check-run-state";
import type { CheckRunState } from "../../../src/records/check-runs";
import { timedOutTransition } from "../../../src/checks/sweep-timeouts";
import type { DispatchRecord } from "../../../src/records/dispatches";

const state = (overrides: Partial<CheckRunState> = {}): CheckRunState => ({
  requestId: "req-1",
  downstream: "strict/gate",
  upstream: "pytorch/pytorch",
  sha: "a".repeat(40),
  name: "relay/strict/gate",
  externalId: "ci-relay:req-1",
  workflow: null,
  job: null,
  status: "queued",
  conclusion: null,
  detailsUrl: null,
  title: "Queued",
  summary: "waiting",
  at: 1_000,
  ...overrides,
});

const record: DispatchRecord = {
  requestId: "req-1",
  deliveryId: "d-1",
  event: "pull_request",
  action: "opened",
  upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", prNumber: 1 },
  downstream: "strict/gate",
  level: "L4",
  transport: "dispatch",
  state: "dispatched",
  createdAt: 1_000,
  dispatchedAt: 1_100,
  lastError: null,
};

describe("supersede decision", () => {
  it("cancels queued and running check runs as superseded", () => {
    for (const status of ["queued", "in_progress"] as const) {
      expect(supersededState(state({ status }), 5_000)).toMatchObject({
        status: "completed",
        conclusion: "cancelled",
        title: "superseded",
        at: 5_000,
      });
    }
  });

  it("leaves finished check runs and unknown ones alone", () => {
    expect(supersededState(state({ status: "completed", conclusion: "success" }), 5_000)).toBeNull();
    expect(supersededState(null, 5_000)).toBeNull();
  });
});

describe("timeout decision", () => {
  it("times out a per-downstream check that was never picked up as a run-level transition from DISPATCHED", () => {
    const transition = timedOutTransition(record, state(), null, 9_000);
    expect(transition).toMatchObject({
      scope: "run",
      jobName: null,
      from: "DISPATCHED",
      to: "TIMED_OUT",
      conclusion: "timed_out",
      runId: "",
      at: 9_000,
    });
    expect(transition.summary).toMatch(/pickup timeout/);
  });

  it("times out a running job as a job-level transition of the known run", () => {
    const job = state({ status: "in_progress", workflow: "CI", job: "build", name: "relay/strict/gate/CI/build" });
    const transition = timedOutTransition(
      record,
      job,
      { runId: "77", attempt: "2", url: "https://example.test/runs/77" },
      9_000,
    );
    expect(transition).toMatchObject({
      scope: "job",
      jobName: "build",
      workflowName: "CI",
      from: "IN_PROGRESS",
      runId: "77",
      runAttempt: "2",
    });
    expect(transition.detailsUrl).toBe("https://example.test/runs/77");
    expect(transition.summary).toMatch(/job timeout/);
  });
});

describe("conclusions", () => {
  it("copies GitHub's conclusions as sent and shows anything else as neutral", () => {
    expect(checkConclusion("failure")).toBe("failure");
    expect(checkConclusion("timed_out")).toBe("timed_out");
    expect(checkConclusion("exploded")).toBe("neutral");
    expect(checkConclusion(null)).toBe("neutral");
  });
});
