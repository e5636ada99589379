import { callbackBodySchema } from "../../../src/callback/callback-body";
import { UNKNOWN_FIELDS_MAX_BYTES } from "../../../src/jobs/workflow-report";

const workflow = {
  schema_version: "1",
  status: "in_progress",
  conclusion: null,
  name: "CI",
  url: "https://github.com/o/r/actions/runs/1",
  run_id: "1",
  run_attempt: "1",
  job_name: "build",
};
const body = (w: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  relay_token: "t",
  event_type: "pull_request",
  delivery_id: "d",
  workflow: w,
  ...extra,
});
const ok = (value: unknown) => callbackBodySchema.safeParse(value).success;

describe("callback body", () => {
  test("accepts CRCR's body with the echoed payload, dropping the payload", () => {
    const parsed = callbackBodySchema.parse(body(workflow, { payload: { huge: "echo" } }));
    expect(parsed.workflow).toMatchObject({ status: "in_progress", scope: "job", run_id: "1", run_attempt: "1" });
  });

  test("completed needs one of GitHub's check conclusions; in progress has none", () => {
    expect(ok(body({ ...workflow, status: "completed", conclusion: "success" }))).toBe(true);
    expect(ok(body({ ...workflow, status: "completed", conclusion: null }))).toBe(false);
    expect(ok(body({ ...workflow, status: "completed", conclusion: "passed" }))).toBe(false);
    expect(ok(body({ ...workflow, conclusion: "success" }))).toBe(false);
    expect(ok(body({ ...workflow, status: "queued" }))).toBe(false);
  });

  test("a job report names its job; a run report need not", () => {
    expect(ok(body({ ...workflow, job_name: undefined }))).toBe(false);
    expect(ok(body({ ...workflow, job_name: undefined, scope: "run" }))).toBe(true);
  });

  test("ids are digits, as text or numbers, normalised to text", () => {
    expect(callbackBodySchema.parse(body({ ...workflow, run_id: 42, run_attempt: 2 })).workflow).toMatchObject({
      run_id: "42",
      run_attempt: "2",
    });
    expect(ok(body({ ...workflow, run_id: "1; drop" }))).toBe(false);
    expect(ok(body({ ...workflow, run_attempt: "0" }))).toBe(false);
  });

  test("oversized strings and non-http links are refused", () => {
    expect(ok(body({ ...workflow, name: "x".repeat(257) }))).toBe(false);
    expect(ok(body({ ...workflow, summary: "x".repeat(16 * 1024 + 1) }))).toBe(false);
    expect(ok(body({ ...workflow, url: "javascript:alert(1)" }))).toBe(false);
  });

  test("text with a lone surrogate is refused (it could not become a key or a check-run name)", () => {
    expect(ok(body({ ...workflow, job_name: "build\ud800" }))).toBe(false);
    expect(ok(body({ ...workflow, summary: "\udc00 tail" }))).toBe(false);
    expect(ok(body({ ...workflow, job_name: "build 😀" }))).toBe(true);
  });

  test("keeps workflow fields it does not know (the HUD's), within a size cap", () => {
    const parsed = callbackBodySchema.parse(body({ ...workflow, triage_verdict: { flaky: true }, check_run_id: 9 }));
    expect(parsed.workflow).toMatchObject({ triage_verdict: { flaky: true }, check_run_id: "9" });
    expect(ok(body({ ...workflow, notes: "x".repeat(UNKNOWN_FIELDS_MAX_BYTES) }))).toBe(false);
    expect(ok(body({ ...workflow, notes: "x".repeat(UNKNOWN_FIELDS_MAX_BYTES - 100) }))).toBe(true);
  });

  test("check_run_id is a number, or CRCR's <run_id>-<run_attempt> stand-in", () => {
    expect(callbackBodySchema.parse(body({ ...workflow, check_run_id: "4242-1" })).workflow.check_run_id).toBe(
      "4242-1",
    );
    expect(ok(body({ ...workflow, check_run_id: "1; drop" }))).toBe(false);
  });

  test("the body must carry a workflow object", () => {
    expect(ok({ relay_token: "t" })).toBe(false);
    expect(ok(body([] as unknown as Record<string, unknown>))).toBe(false);
  });
});
