import {
  decideTransition,
  type JobEvent,
  type JobReport,
  type TransitionDecision,
} from "../../../src/callback/decide-transition";
import type { JobRecord } from "../../../src/records/jobs";
import { DISPATCHED_AT, dispatchRecord, jobKey } from "../../support/dispatch-fixtures";

const IN_PROGRESS: JobEvent = { status: "in_progress" };
const SUCCESS: JobEvent = { status: "completed", conclusion: "success" };
const FAILURE: JobEvent = { status: "completed", conclusion: "failure" };
const TIMEOUT: JobEvent = { status: "timed_out" };

const report = (event: JobEvent, at: number, overrides: Partial<JobReport> = {}): JobReport => ({
  key: jobKey(),
  event,
  detailsUrl: "https://github.com/vendor/backend/actions/runs/77",
  workflowName: "CI",
  summary: null,
  at,
  ...overrides,
});

/** Runs events in order from DISPATCHED, returning the last decision. */
function replay(events: [JobEvent, number][], overrides: Partial<JobReport> = {}) {
  const dispatch = dispatchRecord();
  let current: JobRecord | null = null;
  let decision: TransitionDecision | null = null;
  for (const [event, at] of events) {
    decision = decideTransition(dispatch, current, report(event, at, overrides));
    if (decision.outcome === "accepted") current = decision.record;
  }
  if (decision === null) throw new Error("replay needs at least one event");
  return decision;
}

describe("job state machine", () => {
  test.each([
    ["DISPATCHED", [], IN_PROGRESS, "accepted", "IN_PROGRESS"],
    ["DISPATCHED", [], SUCCESS, "accepted", "COMPLETED"],
    ["DISPATCHED", [], TIMEOUT, "accepted", "TIMED_OUT"],
    ["IN_PROGRESS", [IN_PROGRESS], IN_PROGRESS, "duplicate", "IN_PROGRESS"],
    ["IN_PROGRESS", [IN_PROGRESS], FAILURE, "accepted", "COMPLETED"],
    ["IN_PROGRESS", [IN_PROGRESS], TIMEOUT, "accepted", "TIMED_OUT"],
    ["COMPLETED", [SUCCESS], SUCCESS, "duplicate", "COMPLETED"],
    ["COMPLETED", [SUCCESS], FAILURE, "refused", "COMPLETED"],
    ["COMPLETED", [SUCCESS], IN_PROGRESS, "refused", "COMPLETED"],
    ["COMPLETED", [SUCCESS], TIMEOUT, "duplicate", "COMPLETED"],
    ["TIMED_OUT", [TIMEOUT], IN_PROGRESS, "refused", "TIMED_OUT"],
    ["TIMED_OUT", [TIMEOUT], SUCCESS, "refused", "TIMED_OUT"],
    ["TIMED_OUT", [TIMEOUT], TIMEOUT, "duplicate", "TIMED_OUT"],
  ] as const)("from %s after %j, %j is %s and leaves %s", (_from, before, event, outcome, state) => {
    const history: [JobEvent, number][] = before.map((e, i) => [e, DISPATCHED_AT + i * 1000]);
    const decision = replay([...history, [event, DISPATCHED_AT + 10_000]]);
    expect(decision.outcome).toBe(outcome);
    expect(decision.record.state).toBe(state);
  });

  test("refusals name the rule: backwards, a different conclusion, or after a timeout", () => {
    const reasons = [
      replay([
        [SUCCESS, DISPATCHED_AT],
        [IN_PROGRESS, DISPATCHED_AT + 1],
      ]),
      replay([
        [SUCCESS, DISPATCHED_AT],
        [FAILURE, DISPATCHED_AT + 1],
      ]),
      replay([
        [TIMEOUT, DISPATCHED_AT],
        [SUCCESS, DISPATCHED_AT + 1],
      ]),
    ].map((d) => (d.outcome === "refused" ? d.reason : d.outcome));
    expect(reasons).toEqual(["backwards", "conclusion-conflict", "timed-out"]);
  });

  test("measures queue time from the dispatch and execution time from in progress, in seconds", () => {
    const started = replay([[IN_PROGRESS, DISPATCHED_AT + 30_000]]);
    const finished = replay([
      [IN_PROGRESS, DISPATCHED_AT + 30_000],
      [SUCCESS, DISPATCHED_AT + 150_500],
    ]);
    if (started.outcome !== "accepted" || finished.outcome !== "accepted")
      throw new Error("expected accepted transitions");
    expect(started.transition).toMatchObject({
      from: "DISPATCHED",
      to: "IN_PROGRESS",
      queueTimeSeconds: 30,
      executionTimeSeconds: null,
    });
    expect(finished.transition).toMatchObject({
      from: "IN_PROGRESS",
      to: "COMPLETED",
      conclusion: "success",
      queueTimeSeconds: 30,
      executionTimeSeconds: 120.5,
    });
  });

  test("queue time falls back to the webhook's arrival when the dispatch time is unknown", () => {
    const decision = decideTransition(
      dispatchRecord({ dispatchedAt: null }),
      null,
      report(IN_PROGRESS, DISPATCHED_AT + 8_000),
    );
    expect(decision.outcome === "accepted" && decision.transition.queueTimeSeconds).toBe(10);
  });

  test("a completed without in progress is accepted with neither queue nor execution time", () => {
    const decision = replay([[SUCCESS, DISPATCHED_AT + 60_000]]);
    expect(decision.outcome === "accepted" && decision.transition).toMatchObject({
      queueTimeSeconds: null,
      executionTimeSeconds: null,
    });
  });

  test("a re-run attempt reports no queue time", () => {
    const decision = replay([[IN_PROGRESS, DISPATCHED_AT + 60_000]], { key: jobKey({ runAttempt: "2" }) });
    expect(decision.outcome === "accepted" && decision.transition.queueTimeSeconds).toBeNull();
  });

  test("a clock behind the dispatch time never yields a negative duration", () => {
    const decision = replay([[IN_PROGRESS, DISPATCHED_AT - 500]]);
    expect(decision.outcome === "accepted" && decision.transition.queueTimeSeconds).toBe(0);
  });

  test("a timeout concludes timed_out and keeps the link reported earlier", () => {
    const decision = replay([
      [IN_PROGRESS, DISPATCHED_AT],
      [TIMEOUT, DISPATCHED_AT + 1],
    ]);
    expect(decision.outcome === "accepted" && decision.transition).toMatchObject({
      to: "TIMED_OUT",
      conclusion: "timed_out",
      detailsUrl: "https://github.com/vendor/backend/actions/runs/77",
    });
  });

  test("a run-scope report has no job name", () => {
    const decision = replay([[SUCCESS, DISPATCHED_AT]], { key: jobKey({ scope: "run", jobName: "ignored" }) });
    expect(decision.outcome === "accepted" && decision.transition).toMatchObject({ scope: "run", jobName: null });
  });
});
