import { setDeadlineOp } from "../../../src/checks/check-deadlines";
import { checkRunOpsForDispatch } from "../../../src/checks/check-run-effects";
import { sweepCheckRunTimeouts } from "../../../src/timeouts/timeout-sweeps";
import { Outbox } from "../../../src/outbox/outbox";
import { MemoryStore } from "../../../src/store/memory-store";
import { dispatchRecord } from "../../support/dispatch-fixtures";
import { downstream, relayConfig } from "../../support/relay-config";
import { keys } from "../../../src/records/keys";
import { checkKey, readWantedCheckRun } from "../../../src/records/check-runs";
import { recordDispatchOps } from "../../../src/records/dispatches";

const NOW = 1_800_000_000_000;
const PICKUP_MS = 60 * 60_000;

describe("sweepCheckRunTimeouts", () => {
  const config = relayConfig({ downstreams: [downstream({ repo: "strict/gate", level: "L4" })] });
  const record = dispatchRecord({ requestId: "req-gate", downstream: "strict/gate", level: "L4" });

  it("keeps the deadline of a check re-run between reading its finished state and dropping its stale deadline", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const outbox = new Outbox(store);
    await store.write(checkRunOpsForDispatch(outbox, config, record, true, NOW - 2 * PICKUP_MS));
    const key = checkKey(record.upstream.repo, record.upstream.sha, "relay/strict/gate");
    const queued = await readWantedCheckRun(store, key);
    if (!queued) throw new Error("no wanted state");
    const finished = { ...queued, status: "completed", conclusion: "success", at: NOW - PICKUP_MS } as const;
    await store.write([
      { op: "set", key: keys.checkRuns.wanted(key), value: JSON.stringify(finished) },
      setDeadlineOp(finished, NOW - 1),
    ]);

    // The re-run lands just after the sweep has read the finished state.
    let rerun = true;
    const racing = Object.assign(Object.create(store) as MemoryStore, {
      get: async (k: string) => {
        const value = await store.get(k);
        if (rerun && k === keys.checkRuns.wanted(key)) {
          rerun = false;
          await store.write(checkRunOpsForDispatch(outbox, config, record, true, NOW));
        }
        return value;
      },
    });
    expect(await sweepCheckRunTimeouts({ store: racing, outbox, config: { current: () => config } }, NOW)).toBe(0);

    expect((await readWantedCheckRun(store, key))?.status).toBe("queued");
    expect(await store.zscore(keys.deadlines.checkRuns, key)).toBe(NOW + PICKUP_MS);
  });

  it("does not time out a check re-queued after the sweep claimed its old deadline", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const outbox = new Outbox(store);
    await store.write([
      ...recordDispatchOps(record),
      ...checkRunOpsForDispatch(outbox, config, record, true, NOW - 2 * PICKUP_MS),
    ]); // long overdue
    const key = checkKey(record.upstream.repo, record.upstream.sha, "relay/strict/gate");

    // The re-run lands after the sweep claimed the deadline and before it reads the wanted state.
    let rerun = true;
    const racing = Object.assign(Object.create(store) as MemoryStore, {
      get: async (k: string) => {
        if (rerun && k === keys.checkRuns.wanted(key)) {
          rerun = false;
          await store.write(checkRunOpsForDispatch(outbox, config, record, true, NOW));
        }
        return store.get(k);
      },
    });
    expect(await sweepCheckRunTimeouts({ store: racing, outbox, config: { current: () => config } }, NOW)).toBe(0);

    expect((await readWantedCheckRun(store, key))?.status).toBe("queued");
    expect(await store.zscore(keys.deadlines.checkRuns, key)).toBe(NOW + PICKUP_MS);
  });

  it("times out a check nobody picked up", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const outbox = new Outbox(store);
    await store.write([
      ...recordDispatchOps(record),
      ...checkRunOpsForDispatch(outbox, config, record, true, NOW - 2 * PICKUP_MS),
    ]);
    const key = checkKey(record.upstream.repo, record.upstream.sha, "relay/strict/gate");
    expect(await sweepCheckRunTimeouts({ store, outbox, config: { current: () => config } }, NOW)).toBe(1);
    expect(await readWantedCheckRun(store, key)).toMatchObject({ status: "completed", conclusion: "timed_out" });
  });
});
