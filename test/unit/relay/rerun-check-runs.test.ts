import { rerunCheckRuns } from "../../../src/relay/rerun-check-runs";
import { Outbox } from "../../../src/outbox/outbox";
import type { DispatchRecord } from "../../../src/records/dispatches";
import { MemoryStore } from "../../../src/store/memory-store";
import { dispatchRecord } from "../../support/dispatch-fixtures";
import { downstream, relayConfig } from "../../support/relay-config";
import { keys } from "../../../src/records/keys";
import { listOutboxTaskIds } from "../../../src/records/outbox-tasks";

const NOW = 1_800_000_000_000;

function record(transport: DispatchRecord["transport"]): DispatchRecord {
  return dispatchRecord({
    requestId: `req-${transport}`,
    downstream: transport === "queue" ? "farm/npu-ci" : "strict/gate",
    level: "L4",
    transport,
  });
}

async function dueTasks(store: MemoryStore): Promise<string[]> {
  return listOutboxTaskIds(store, 100);
}

describe("rerunCheckRuns", () => {
  const config = relayConfig({
    downstreams: [
      downstream({ repo: "strict/gate", level: "L4" }),
      downstream({ repo: "farm/npu-ci", level: "L4", transport: "queue" }),
    ],
  });

  it("re-runs a known Actions run on GitHub", async () => {
    const store = new MemoryStore({ now: () => NOW });
    await store.write([
      {
        op: "set",
        key: keys.checkRuns.downstreamRun("req-dispatch"),
        value: JSON.stringify({ runId: "555", attempt: "1", url: null }),
      },
    ]);
    expect(
      await rerunCheckRuns(
        { store, outbox: new Outbox(store) },
        config,
        { deliveryId: "re-1", dispatches: [record("dispatch")], mode: "rerun-failed-jobs" },
        NOW,
      ),
    ).toBe(true);
    const tasks = await dueTasks(store);
    expect(tasks.filter((t) => t.startsWith("rerun-downstream:"))).toHaveLength(1);
    expect(tasks.filter((t) => t.startsWith("dispatch:"))).toHaveLength(0);
  });

  it("requests a queue downstream's job again instead of asking GitHub to re-run a run that is not GitHub's", async () => {
    const store = new MemoryStore({ now: () => NOW });
    await store.write([
      {
        op: "set",
        key: keys.checkRuns.downstreamRun("req-queue"),
        value: JSON.stringify({ runId: "1795000000000", attempt: "1", url: "https://farm.example/1" }),
      },
    ]);
    expect(
      await rerunCheckRuns(
        { store, outbox: new Outbox(store) },
        config,
        { deliveryId: "re-2", dispatches: [record("queue")], mode: "rerun-failed-jobs" },
        NOW,
      ),
    ).toBe(true);
    const tasks = await dueTasks(store);
    expect(tasks.filter((t) => t.startsWith("rerun-downstream:"))).toHaveLength(0);
    expect(tasks.filter((t) => t.startsWith("enqueue-job:re-2:farm/npu-ci"))).toHaveLength(1);
  });

  it("acts once per rerequested delivery", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const request = { deliveryId: "re-3", dispatches: [record("queue")], mode: "rerun-failed-jobs" as const };
    expect(await rerunCheckRuns({ store, outbox: new Outbox(store) }, config, request, NOW)).toBe(true);
    expect(await rerunCheckRuns({ store, outbox: new Outbox(store) }, config, request, NOW)).toBe(false);
  });
});
