import type { JobReport } from "../../../src/callback/decide-transition";
import { jobId, readJobById } from "../../../src/records/jobs";
import { keys } from "../../../src/records/keys";
import { recordJobReport } from "../../../src/callback/record-job-report";
import { MemoryStore } from "../../../src/store/memory-store";
import { DISPATCHED_AT, dispatchRecord, jobKey } from "../../support/dispatch-fixtures";

const report = (status: "in_progress" | "completed", at: number): JobReport => ({
  key: jobKey(),
  event: status === "completed" ? { status, conclusion: "success" } : { status },
  detailsUrl: null,
  workflowName: null,
  summary: null,
  at,
});

describe("recording a job report", () => {
  test("twenty identical reports at once make one transition and one set of effects", async () => {
    const store = new MemoryStore();
    const dispatch = dispatchRecord();
    const effects = jest.fn(() => [{ op: "set" as const, key: "effect", value: "1" }]);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, () =>
        recordJobReport(store, dispatch, report("in_progress", DISPATCHED_AT + 1_000), effects),
      ),
    );
    expect(decisions.filter((d) => d.outcome === "accepted")).toHaveLength(1);
    expect(decisions.filter((d) => d.outcome === "duplicate")).toHaveLength(19);
    expect(await store.get("effect")).toBe("1");
    expect((await readJobById(store, jobId(jobKey())))?.state).toBe("IN_PROGRESS");
    expect(await store.zscore(keys.jobs.ofDispatch(dispatch.requestId), jobId(jobKey()))).toBe(DISPATCHED_AT + 1_000);
  });

  test("a refused report writes nothing, effects included", async () => {
    const store = new MemoryStore();
    const dispatch = dispatchRecord();
    await recordJobReport(store, dispatch, report("completed", DISPATCHED_AT), () => []);
    const effects = jest.fn(() => [{ op: "set" as const, key: "effect", value: "1" }]);
    const decision = await recordJobReport(store, dispatch, report("in_progress", DISPATCHED_AT + 1), effects);
    expect(decision.outcome).toBe("refused");
    expect(await store.get("effect")).toBeNull();
  });
});
