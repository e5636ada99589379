import type { JobRecord } from "../../../src/records/jobs";
import { concludeDeclaredJobs, declaredJobsConclusion } from "../../../src/callback/conclude-declared-jobs";
import { recordJobReport } from "../../../src/callback/record-job-report";
import { transitionEffects } from "../../../src/callback/transition-effects";
import type { RelayEnv } from "../../../src/config/env";
import { Outbox } from "../../../src/outbox/outbox";
import { MemoryStore } from "../../../src/store/memory-store";
import { DISPATCHED_AT, dispatchRecord, jobKey } from "../../support/dispatch-fixtures";
import { downstream, relayConfig } from "../../support/relay-config";
import { recordDispatchOps } from "../../../src/records/dispatches";
import { checkKey, readWantedCheckRun } from "../../../src/records/check-runs";

const job = (jobName: string, state: JobRecord["state"], conclusion: string | null, updatedAt = 1): JobRecord => ({
  requestId: "req-1",
  scope: "job",
  jobName,
  runId: "1",
  runAttempt: "1",
  state,
  conclusion,
  detailsUrl: null,
  workflowName: "queue",
  inProgressAt: null,
  completedAt: null,
  queueTimeSeconds: null,
  executionTimeSeconds: null,
  updatedAt,
});

describe("declaredJobsConclusion", () => {
  it("is null until every declared job completed", () => {
    expect(declaredJobsConclusion(["build", "test"], [job("build", "COMPLETED", "success")])).toBeNull();
    expect(
      declaredJobsConclusion(
        ["build", "test"],
        [job("build", "COMPLETED", "success"), job("test", "IN_PROGRESS", null)],
      ),
    ).toBeNull();
  });

  it("is success when all passed, failure if any failed", () => {
    expect(
      declaredJobsConclusion(
        ["build", "test"],
        [job("build", "COMPLETED", "success"), job("test", "COMPLETED", "skipped")],
      ),
    ).toBe("success");
    expect(
      declaredJobsConclusion(
        ["build", "test"],
        [job("build", "COMPLETED", "success"), job("test", "COMPLETED", "failure")],
      ),
    ).toBe("failure");
  });

  it("judges each job by its latest report (a retried job)", () => {
    const jobs = [job("build", "COMPLETED", "failure", 1), job("build", "COMPLETED", "success", 2)];
    expect(declaredJobsConclusion(["build"], jobs)).toBe("success");
  });
});

describe("concludeDeclaredJobs", () => {
  const config = relayConfig({
    downstreams: [
      downstream({
        repo: "Farm/Gate",
        level: "L4",
        transport: "queue",
        jobs: [
          { id: "build", runsOn: "x" },
          { id: "test", runsOn: "x" },
        ],
      }),
    ],
  });
  const dispatch = dispatchRecord({ downstream: "Farm/Gate", level: "L4", transport: "queue" });

  it("concludes the per-downstream check once the last declared job completed", async () => {
    const store = new MemoryStore({ now: () => DISPATCHED_AT });
    const relay = { store, outbox: new Outbox(store), env: {} as RelayEnv };
    await store.write(recordDispatchOps(dispatch));
    const complete = async (name: string, conclusion: string) => {
      const decision = await recordJobReport(
        store,
        dispatch,
        {
          key: jobKey({ jobName: name, runId: name === "build" ? "11" : "12" }),
          event: { status: "completed", conclusion },
          detailsUrl: null,
          workflowName: "queue",
          summary: null,
          at: DISPATCHED_AT,
        },
        (t) => transitionEffects(relay, config, t, null, DISPATCHED_AT),
      );
      return concludeDeclaredJobs(relay, config, dispatch, decision.record, DISPATCHED_AT);
    };
    const perDownstream = async () =>
      readWantedCheckRun(store, checkKey("pytorch/pytorch", "a".repeat(40), "relay/Farm/Gate"));

    expect(await complete("build", "success")).toBe(false);
    expect(await perDownstream()).toBeNull();
    expect(await complete("test", "failure")).toBe(true);
    expect(await perDownstream()).toMatchObject({ status: "completed", conclusion: "failure" });
    // A repeat of the last report concludes nothing twice.
    expect(await complete("test", "failure")).toBe(false);
  });
});
