import type { WorkflowReport } from "../../../src/callback/callback-body";
import type { JobTransition } from "../../../src/callback/job-transition";
import { buildHudRecord } from "../../../src/hud/hud-record";
import { dispatchRecord } from "../../support/dispatch-fixtures";

const transition: JobTransition = {
  dispatch: dispatchRecord({ level: "L3" }),
  scope: "job",
  jobName: "build",
  runId: "77",
  runAttempt: "1",
  from: "IN_PROGRESS",
  to: "COMPLETED",
  conclusion: "success",
  detailsUrl: "https://github.com/vendor/backend/actions/runs/77",
  workflowName: "CI",
  summary: "all good",
  queueTimeSeconds: 12.5,
  executionTimeSeconds: 300,
  at: 0,
};

const workflow: WorkflowReport = {
  status: "completed",
  conclusion: "success",
  scope: "job",
  run_id: "77",
  run_attempt: "1",
  job_name: "build",
  test_results: { passed: 10, failed: 0, skipped: 1 },
};

describe("HUD record", () => {
  test("trusted part comes from the relay's own records; the report is kept apart as untrusted", () => {
    const record = buildHudRecord(transition, workflow);
    expect(record.trusted).toMatchObject({
      ci_metrics: { queue_time: 12.5, execution_time: 300 },
      verified_repo: "Vendor/Backend",
      downstream_repo_level: "L3",
      request_id: "req-1",
      upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), pr_number: 5 },
      state: "COMPLETED",
      conclusion: "success",
    });
    expect(record.untrusted).toEqual({ workflow });
  });

  test("never carries the echoed upstream payload or any token", () => {
    const text = JSON.stringify(buildHudRecord(transition, workflow));
    expect(text).not.toMatch(/payload|relay_token|callback_token/);
  });

  test("a relay-caused transition (timeout) has no untrusted report", () => {
    const record = buildHudRecord({ ...transition, to: "TIMED_OUT", conclusion: "timed_out", executionTimeSeconds: null }, null);
    expect(record.untrusted.workflow).toBeNull();
    expect(record.trusted.ci_metrics.execution_time).toBeNull();
  });
});
