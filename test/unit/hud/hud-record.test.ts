import { expect } from "@jest/globals";
import { workflowReportSchema, type WorkflowReport } from "../../../src/jobs/workflow-report";
import type { JobTransition } from "../../../src/jobs/job-transition";
import { buildHudRecord, buildNightlyHudRecord } from "../../../src/hud/hud-record";
import { dispatchRecord } from "../../support/dispatch-fixtures";
import { nightlyReport } from "../callback/nightly/nightly-fixtures";

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
  checkRunId: "9001",
  summary: "all good",
  queueTimeSeconds: 12.5,
  executionTimeSeconds: 300,
  at: Date.parse("2025-03-01T12:10:00Z"),
};

const workflow: WorkflowReport = workflowReportSchema.parse({
  status: "completed",
  conclusion: "success",
  name: "CI",
  run_id: "77",
  run_attempt: "1",
  job_name: "build",
  check_run_id: "9001",
  test_results: { passed: 10, failed: 0, skipped: 1 },
  triage_verdict: { flaky: false },
});

describe("HUD record (SPEC §4, PyTorch HUD's CRCR body)", () => {
  test("trusted part comes from the relay's own records", () => {
    expect(buildHudRecord(transition, workflow).trusted).toEqual({
      ci_metrics: { queue_time: 12.5, execution_time: 300 },
      verified_repo: "Vendor/Backend",
      downstream_repo_level: "L3",
      request_id: "req-1",
      upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), pr_number: 5 },
    });
  });

  test("callback_payload carries the dispatch's delivery id and event, a payload rebuilt from the dispatch, and the workflow with unknown fields", () => {
    expect(buildHudRecord(transition, workflow).untrusted).toEqual({
      callback_payload: {
        event_type: "pull_request",
        delivery_id: "delivery-1",
        payload: {
          repository: { full_name: "pytorch/pytorch" },
          head_sha: "a".repeat(40),
          pull_request: { number: 5, head: { sha: "a".repeat(40) } },
        },
        workflow: expect.objectContaining({
          job_name: "build",
          check_run_id: "9001",
          triage_verdict: { flaky: false },
        }),
      },
    });
  });

  test("a push has no pull_request in the rebuilt payload", () => {
    const push = {
      ...transition,
      dispatch: dispatchRecord({
        event: "push",
        action: null,
        upstream: { repo: "pytorch/pytorch", sha: "b".repeat(40), ref: "refs/heads/main", prNumber: null },
      }),
    };
    expect(buildHudRecord(push, workflow).untrusted.callback_payload).toMatchObject({
      event_type: "push",
      payload: { repository: { full_name: "pytorch/pytorch" }, head_sha: "b".repeat(40) },
    });
    expect(buildHudRecord(push, workflow).untrusted.callback_payload.payload).not.toHaveProperty("pull_request");
  });

  test("never carries a token", () => {
    expect(JSON.stringify(buildHudRecord(transition, workflow))).not.toMatch(/relay_token|callback_token/);
  });

  test("a job the relay timed out is completed/timed_out on the job's own HUD key", () => {
    const record = buildHudRecord(
      { ...transition, to: "TIMED_OUT", conclusion: "timed_out", executionTimeSeconds: null },
      null,
    );
    expect(record.untrusted.callback_payload.workflow).toMatchObject({
      status: "completed",
      conclusion: "timed_out",
      name: "CI",
      job_name: "build",
      check_run_id: "9001",
      run_id: "77",
      run_attempt: "1",
      completed_at: "2025-03-01T12:10:00.000Z",
    });
    expect(record.trusted.ci_metrics.execution_time).toBeNull();
  });
});

describe("HUD record of a nightly or periodic report (SPEC §4)", () => {
  const report = nightlyReport({ event: "periodic", downstream: "Nightly/Only", level: "L4", sha: "c".repeat(40) });

  test("has no metrics and no request id, the SHA as delivery id, and no pull_request", () => {
    expect(buildNightlyHudRecord(report, workflow)).toEqual({
      trusted: {
        ci_metrics: { queue_time: null, execution_time: null },
        verified_repo: "Nightly/Only",
        downstream_repo_level: "L4",
        request_id: null,
        upstream: { repo: "pytorch/pytorch", sha: "c".repeat(40), pr_number: null },
      },
      untrusted: {
        callback_payload: {
          event_type: "periodic",
          delivery_id: "c".repeat(40),
          payload: { repository: { full_name: "pytorch/pytorch" }, head_sha: "c".repeat(40) },
          workflow,
        },
      },
    });
  });
});
