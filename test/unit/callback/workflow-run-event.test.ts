import {
  decideWorkflowRun,
  parseWorkflowRunEvent,
  type WorkflowRunEvent,
} from "../../../src/callback/workflow-run-event";

const event = (overrides: Partial<WorkflowRunEvent> = {}): WorkflowRunEvent => ({
  action: "completed",
  installationId: 100,
  repo: "Vendor/Gate",
  runId: "77",
  runAttempt: 1,
  name: "upstream",
  url: "https://github.com/Vendor/Gate/actions/runs/77",
  conclusion: "success",
  ...overrides,
});
const known = (attempt: string) => ({ runId: "77", attempt, url: null });

describe("decideWorkflowRun", () => {
  it("concludes with the run's conclusion when it completes", () => {
    expect(decideWorkflowRun(event(), known("1"))).toEqual({
      kind: "conclude",
      runAttempt: "1",
      conclusion: "success",
    });
  });

  it("shows a run conclusion no check run has as a failure", () => {
    expect(decideWorkflowRun(event({ conclusion: "startup_failure" }), known("1"))).toMatchObject({
      conclusion: "failure",
    });
  });

  it("ignores an older attempt completing after a re-run started", () => {
    expect(decideWorkflowRun(event({ runAttempt: 1 }), known("2"))).toEqual({ kind: "ignore" });
  });

  it("re-opens on a re-run (a later attempt starting), and only then", () => {
    expect(decideWorkflowRun(event({ action: "requested", runAttempt: 2, conclusion: null }), known("1"))).toEqual({
      kind: "reopen",
      runAttempt: "2",
    });
    expect(decideWorkflowRun(event({ action: "in_progress", runAttempt: 2, conclusion: null }), known("2"))).toEqual({
      kind: "ignore",
    });
    expect(decideWorkflowRun(event({ action: "in_progress", runAttempt: 1, conclusion: null }), known("1"))).toEqual({
      kind: "ignore",
    });
  });
});

describe("parseWorkflowRunEvent", () => {
  it("reads the installation, repository, run id and attempt", () => {
    const parsed = parseWorkflowRunEvent({
      action: "completed",
      installation: { id: 5 },
      repository: { full_name: "Vendor/Gate" },
      workflow_run: { id: 123, run_attempt: 3, name: "CI", html_url: "https://x", conclusion: "failure" },
    });
    expect(parsed).toEqual({
      action: "completed",
      installationId: 5,
      repo: "Vendor/Gate",
      runId: "123",
      runAttempt: 3,
      name: "CI",
      url: "https://x",
      conclusion: "failure",
    });
  });

  it("is null without an installation or for other actions", () => {
    expect(
      parseWorkflowRunEvent({ action: "completed", repository: { full_name: "a/b" }, workflow_run: { id: 1 } }),
    ).toBeNull();
    expect(
      parseWorkflowRunEvent({
        action: "deleted",
        installation: { id: 1 },
        repository: { full_name: "a/b" },
        workflow_run: { id: 1 },
      }),
    ).toBeNull();
  });
});
