import { parseWorkflowRunEvent } from "../../../src/callback/workflow-run-event";
import { isTaskKind, parseTaskData } from "../../../src/outbox/task-data";

describe("the outbox task table", () => {
  it("knows its kinds and nothing an object inherits", () => {
    expect(isTaskKind("check-run")).toBe(true);
    expect(isTaskKind("work")).toBe(false);
    expect(isTaskKind("toString")).toBe(false);
    expect(isTaskKind("__proto__")).toBe(false);
  });

  it("reads back the data a producer stored, as it was", () => {
    const event = parseWorkflowRunEvent({
      action: "completed",
      installation: { id: 100 },
      repository: { full_name: "Vendor/Gate" },
      workflow_run: { id: 77, run_attempt: 2, name: "upstream", html_url: null, conclusion: "success" },
    });
    const stored: unknown = JSON.parse(JSON.stringify(event));
    expect(parseTaskData("workflow-run", stored)).toEqual({ ok: true, data: event });
    expect(parseTaskData("rerun-downstream", { downstream: "vendor/gate", runId: "77", mode: "rerun" })).toMatchObject({
      ok: true,
    });
  });

  it("says which field of a corrupt task is wrong, and does not throw", () => {
    const read = parseTaskData("check-run", { upstream: "pytorch/pytorch", sha: 7 });
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error).toMatch(/sha[\s\S]*name|name[\s\S]*sha/);
    expect(parseTaskData("rerun-downstream", { downstream: "vendor/gate", runId: "77", mode: "rm -rf" }).ok).toBe(
      false,
    );
    expect(parseTaskData("dispatch", null).ok).toBe(false);
  });
});
