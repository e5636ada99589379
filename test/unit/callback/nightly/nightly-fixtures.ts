import type { NightlyReport } from "../../../../src/records/nightly-reports";

/** A stored nightly report; tests override what they are about. */
export function nightlyReport(overrides: Partial<NightlyReport> = {}): NightlyReport {
  return {
    requestId: "req-n1",
    event: "nightly",
    downstream: "Vendor/Backend",
    level: "L2",
    upstream: "pytorch/pytorch",
    sha: "a".repeat(40),
    runId: "777",
    runAttempt: "1",
    scope: "job",
    jobName: "build",
    workflowName: "Nightly",
    conclusion: "success",
    url: "https://github.com/vendor/backend/actions/runs/777",
    checkRunId: "9001",
    at: Date.parse("2026-11-30T03:00:00Z"),
    ...overrides,
  };
}
