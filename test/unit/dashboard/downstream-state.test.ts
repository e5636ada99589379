import type { JobRecord } from "../../../src/records/jobs";
import { downstreamState } from "../../../src/dashboard/downstream-state";
import { dispatchRecord } from "../../support/dispatch-fixtures";

const T0 = Date.parse("2026-12-01T12:00:00Z");
const MIN = 60_000;
const deadlines = { pickupTimeoutMinutes: 60, jobTimeoutMinutes: 360 };
const job = (overrides: Partial<JobRecord> = {}): JobRecord => ({
  requestId: "req-1",
  scope: "job",
  jobName: "build",
  runId: "1",
  runAttempt: "1",
  state: "COMPLETED",
  conclusion: "success",
  detailsUrl: null,
  workflowName: null,
  inProgressAt: T0 + MIN,
  completedAt: T0 + 10 * MIN,
  queueTimeSeconds: 60,
  executionTimeSeconds: 540,
  updatedAt: T0 + 10 * MIN,
  ...overrides,
});

describe("downstreamState", () => {
  it("a dispatch not tried yet is pending; due for over five minutes it is stuck", () => {
    const record = dispatchRecord({ state: "pending", createdAt: T0, dispatchedAt: null });
    expect(downstreamState(record, [], deadlines, T0 + MIN)).toEqual({
      name: "pending",
      reason: "not sent yet",
      since: T0,
      stuck: null,
    });
    expect(downstreamState(record, [], deadlines, T0 + 6 * MIN).stuck).toBe(
      "due since 12:00 UTC and not run: is the outbox runner up?",
    );
  });

  it("a retrying dispatch says its attempts, its last error and its next try", () => {
    const record = dispatchRecord({
      state: "pending",
      createdAt: T0,
      dispatchedAt: null,
      attempts: 3,
      lastError: "DNS failure: could not resolve github.invalid",
      nextAttemptAt: T0 + 3 * MIN,
    });
    expect(downstreamState(record, [], deadlines, T0 + 2 * MIN)).toEqual({
      name: "retrying",
      reason: "3 attempts failed, last: DNS failure: could not resolve github.invalid; next try 12:03:00 UTC",
      since: T0,
      stuck: null,
    });
    expect(downstreamState(record, [], deadlines, T0 + 9 * MIN).stuck).toContain("due since 12:03 UTC");
  });

  it("a given-up dispatch says when and why", () => {
    const record = dispatchRecord({
      state: "failed",
      attempts: 1,
      failedAt: T0 + 5 * MIN,
      lastError: "HTTP 422 from GitHub",
    });
    expect(downstreamState(record, [], deadlines, T0 + 6 * MIN)).toEqual({
      name: "given_up",
      reason: "gave up after 1 attempt at 12:05 UTC: HTTP 422 from GitHub",
      since: T0 + 5 * MIN,
      stuck: null,
    });
  });

  it("a dispatched one nobody picked up is queued, and stuck past its pickup timeout", () => {
    const record = dispatchRecord({ dispatchedAt: T0 });
    expect(downstreamState(record, [], deadlines, T0 + 59 * MIN)).toMatchObject({
      name: "queued",
      since: T0,
      stuck: null,
    });
    expect(downstreamState(record, [], deadlines, T0 + 61 * MIN).stuck).toBe(
      "not picked up within its 60 min pickup timeout",
    );
    expect(downstreamState(record, [], null, T0 + 61 * MIN).stuck).toBeNull(); // no longer configured: no deadline known
  });

  it("running jobs are in progress since the first started, and stuck past the job timeout", () => {
    const jobs = [job({ state: "IN_PROGRESS", conclusion: null, completedAt: null }), job({ jobName: "test" })];
    expect(downstreamState(dispatchRecord({ dispatchedAt: T0 }), jobs, deadlines, T0 + 20 * MIN)).toEqual({
      name: "in_progress",
      reason: "1 of 2 jobs running",
      since: T0 + MIN,
      stuck: null,
    });
    expect(downstreamState(dispatchRecord({ dispatchedAt: T0 }), jobs, deadlines, T0 + 400 * MIN).stuck).toBe(
      "running past its 360 min job timeout",
    );
  });

  it.each([
    ["failure", "1 of 2 jobs failed", [job(), job({ jobName: "test", conclusion: "failure" })]],
    ["cancelled", "cancelled", [job({ conclusion: "cancelled" })]],
    ["success", "2 jobs succeeded", [job(), job({ jobName: "lint", conclusion: "skipped" })]],
    [
      "timed_out",
      "not picked up within the pickup timeout",
      [job({ state: "TIMED_OUT", conclusion: "timed_out", inProgressAt: null })],
    ],
    ["timed_out", "no result within the job timeout", [job({ state: "TIMED_OUT", conclusion: "timed_out" })]],
    ["completed", "action required", [job({ conclusion: "action_required" })]],
    [
      "success",
      "succeeded",
      [job({ conclusion: "failure" }), job({ scope: "run", jobName: null, conclusion: "success" })],
    ],
    ["success", "succeeded", [job({ conclusion: "failure" }), job({ runAttempt: "2" })]],
  ])("completed jobs give %s: %s", (name, reason, jobs) => {
    expect(downstreamState(dispatchRecord(), jobs, deadlines, T0 + 20 * MIN)).toEqual({
      name,
      reason,
      since: T0 + 10 * MIN,
      stuck: null,
    });
  });
});
