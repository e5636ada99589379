import type { JobReport } from "../../../src/callback/decide-transition";
import { jobId, readJobById } from "../../../src/records/jobs";
import { keys } from "../../../src/records/keys";
import { callbackCount } from "../../../src/callback/count-callback";
import { recordJobReport } from "../../../src/callback/record-job-report";
import { RelayError } from "../../../src/errors/failure-kinds";
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

  describe("counted in the callback rate window", () => {
    const LIMIT = 4;
    const counted = () => callbackCount("vendor/backend", LIMIT, DISPATCHED_AT);
    const countSoFar = async (store: MemoryStore) => Number(await store.get(counted().window.key));

    test("a job's first report is counted once and accepted", async () => {
      const store = new MemoryStore();
      const effects = jest.fn(() => [{ op: "set" as const, key: "effect", value: "1" }]);
      const decision = await recordJobReport(
        store,
        dispatchRecord(),
        report("in_progress", DISPATCHED_AT + 1),
        effects,
        counted(),
      );
      expect(decision.outcome).toBe("accepted");
      expect(await store.get("effect")).toBe("1");
      expect(await countSoFar(store)).toBe(1);
    });

    test("a job heard of before is decided on its stored state, each report counted once", async () => {
      const store = new MemoryStore();
      const dispatch = dispatchRecord();
      await recordJobReport(store, dispatch, report("in_progress", DISPATCHED_AT + 1_000), () => [], counted());
      const repeat = await recordJobReport(
        store,
        dispatch,
        report("in_progress", DISPATCHED_AT + 2_000),
        () => [],
        counted(),
      );
      expect(repeat.outcome).toBe("duplicate");
      const effects = jest.fn(() => [{ op: "set" as const, key: "effect", value: "1" }]);
      const completed = await recordJobReport(
        store,
        dispatch,
        report("completed", DISPATCHED_AT + 5_000),
        effects,
        counted(),
      );
      expect(completed).toMatchObject({ outcome: "accepted", record: { state: "COMPLETED", executionTimeSeconds: 4 } });
      expect(await store.get("effect")).toBe("1");
      const backwards = await recordJobReport(
        store,
        dispatch,
        report("in_progress", DISPATCHED_AT + 6_000),
        () => [],
        counted(),
      );
      expect(backwards.outcome).toBe("refused");
      expect(await countSoFar(store)).toBe(4);
    });

    test("a report over the limit is refused with a 429 and writes nothing, effects included", async () => {
      const store = new MemoryStore();
      const dispatch = dispatchRecord();
      for (let i = 0; i < LIMIT; i++) await store.incrementWindow(counted().window.key, 60);
      const effects = jest.fn(() => [{ op: "set" as const, key: "effect", value: "1" }]);
      const refused = recordJobReport(store, dispatch, report("in_progress", DISPATCHED_AT + 1), effects, counted());
      await expect(refused).rejects.toBeInstanceOf(RelayError);
      await expect(refused).rejects.toMatchObject({ kind: "rate-limited" });
      expect(await store.get("effect")).toBeNull();
      expect(await readJobById(store, jobId(jobKey()))).toBeNull();
    });
  });
});
