import type { DispatchRecord } from "../../src/records/dispatches";
import type { JobKey } from "../../src/records/jobs";

export const DISPATCHED_AT = Date.parse("2025-03-01T12:00:00Z");

export function dispatchRecord(overrides: Partial<DispatchRecord> = {}): DispatchRecord {
  return {
    requestId: "req-1",
    deliveryId: "delivery-1",
    event: "pull_request",
    action: "opened",
    upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/5/head", prNumber: 5 },
    downstream: "Vendor/Backend",
    level: "L2",
    transport: "dispatch",
    state: "dispatched",
    createdAt: DISPATCHED_AT - 2_000,
    dispatchedAt: DISPATCHED_AT,
    lastError: null,
    ...overrides,
  };
}

export const jobKey = (overrides: Partial<JobKey> = {}): JobKey => ({
  requestId: "req-1",
  runId: "77",
  runAttempt: "1",
  scope: "job",
  jobName: "build",
  ...overrides,
});
