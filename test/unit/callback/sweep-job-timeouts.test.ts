import { recordJobReport } from "../../../src/callback/record-job-report";
import { sweepJobTimeouts } from "../../../src/timeouts/timeout-sweeps";
import { transitionEffects } from "../../../src/callback/transition-effects";
import type { RelayEnv } from "../../../src/config/env";
import type { ConfigSource } from "../../../src/config/config-source";
import type { HudRecord } from "../../../src/hud/hud-record";
import { Outbox } from "../../../src/outbox/outbox";
import { MemoryStore } from "../../../src/store/memory-store";
import { downstream, relayConfig } from "../../support/relay-config";
import { DISPATCHED_AT, dispatchRecord, jobKey } from "../../support/dispatch-fixtures";
import { keys } from "../../../src/records/keys";
import { listOutboxTaskIds } from "../../../src/records/outbox-tasks";
import { jobId, readJobById } from "../../../src/records/jobs";
import { recordDispatchOps } from "../../../src/records/dispatches";

const MINUTE = 60_000;

function world() {
  const store = new MemoryStore({ now: () => DISPATCHED_AT });
  const config = relayConfig({
    downstreams: [downstream({ repo: "Vendor/Backend", level: "L2", jobTimeoutMinutes: 30 })],
  });
  const relay = {
    store,
    outbox: new Outbox(store),
    env: { hudUrl: "http://hud.example/api", hudToken: "hud-token" } as RelayEnv,
    config: { current: () => config } as unknown as ConfigSource,
  };
  return { store, config, relay };
}

async function start(w: ReturnType<typeof world>, at: number) {
  const dispatch = dispatchRecord();
  await w.store.write(recordDispatchOps(dispatch));
  return recordJobReport(
    w.store,
    dispatch,
    {
      key: jobKey(),
      event: { status: "in_progress" },
      detailsUrl: "https://ci.example/1",
      workflowName: "CI",
      checkRunId: "9001",
      summary: null,
      at,
    },
    (t) => transitionEffects(w.relay, w.config, t, null, at),
  );
}

const hudTasks = async (store: MemoryStore) =>
  (await listOutboxTaskIds(store, 100)).filter((id) => id.startsWith("hud:"));

describe("sweepJobTimeouts", () => {
  it("times out a job in progress longer than job_timeout_minutes, with a HUD record, once", async () => {
    const w = world();
    await start(w, DISPATCHED_AT + MINUTE);
    expect(await w.store.zcard(keys.deadlines.jobs)).toBe(1);

    expect(await sweepJobTimeouts(w.relay, DISPATCHED_AT + 30 * MINUTE)).toBe(0);
    expect(await sweepJobTimeouts(w.relay, DISPATCHED_AT + 31 * MINUTE)).toBe(1);

    const job = await readJobById(w.store, jobId(jobKey()));
    expect(job).toMatchObject({ state: "TIMED_OUT", conclusion: "timed_out" });
    expect((await hudTasks(w.store)).filter((id) => id.endsWith(":TIMED_OUT"))).toHaveLength(1);
    expect(await w.store.zcard(keys.deadlines.jobs)).toBe(0);
    expect(await sweepJobTimeouts(w.relay, DISPATCHED_AT + 90 * MINUTE)).toBe(0);
  });

  it("files the timeout in the HUD as completed/timed_out under the job's own workflow, job and check run id", async () => {
    const w = world();
    await start(w, DISPATCHED_AT + MINUTE);
    await sweepJobTimeouts(w.relay, DISPATCHED_AT + 31 * MINUTE);
    const [id] = (await hudTasks(w.store)).filter((taskId) => taskId.endsWith(":TIMED_OUT"));
    // The HUD task's data as the hud task kind stores it (outbox/task-data.ts).
    const { record } = (await w.relay.outbox.peek(id))?.data as { record: HudRecord };
    expect(record.untrusted.callback_payload).toMatchObject({
      delivery_id: "delivery-1",
      workflow: {
        status: "completed",
        conclusion: "timed_out",
        name: "CI",
        job_name: "build",
        check_run_id: "9001",
        run_id: "77",
      },
    });
  });

  it("leaves a job that completed before its deadline alone", async () => {
    const w = world();
    await start(w, DISPATCHED_AT + MINUTE);
    const dispatch = dispatchRecord();
    await recordJobReport(
      w.store,
      dispatch,
      {
        key: jobKey(),
        event: { status: "completed", conclusion: "success" },
        detailsUrl: null,
        workflowName: "CI",
        summary: null,
        at: DISPATCHED_AT + 5 * MINUTE,
      },
      (t) => transitionEffects(w.relay, w.config, t, null, DISPATCHED_AT + 5 * MINUTE),
    );
    expect(await w.store.zcard(keys.deadlines.jobs)).toBe(0);
    expect(await sweepJobTimeouts(w.relay, DISPATCHED_AT + 60 * MINUTE)).toBe(0);
    expect((await readJobById(w.store, jobId(jobKey())))?.state).toBe("COMPLETED");
  });

  it("drops a deadline whose dispatch record expired", async () => {
    const w = world();
    await start(w, DISPATCHED_AT + MINUTE);
    await w.store.write([{ op: "del", key: keys.dispatches.record("req-1") }]);
    expect(await sweepJobTimeouts(w.relay, DISPATCHED_AT + 60 * MINUTE)).toBe(0);
    expect(await w.store.zcard(keys.deadlines.jobs)).toBe(0);
  });
});
