import pino from "pino";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox } from "../../../src/outbox/outbox";
import { dispatchKey, parseDispatchRecord, runsByPrKey } from "../../../src/relay/dispatch-record";
import { deliveryKey, relayDelivery } from "../../../src/relay/relay-delivery";
import { MemoryStore } from "../../../src/store/memory-store";
import type { Store, WriteOp } from "../../../src/store/store";
import { relayConfig } from "../../support/relay-config";
import { pullRequestEvent } from "../../support/webhooks";

const log = pino({ level: "silent" });
const payload = pullRequestEvent("opened", { repo: "pytorch/pytorch", installationId: 1, number: 12, authorAssociation: "OWNER" });

function deps(store: Store) {
  return { store, outbox: new Outbox(store), metrics: createMetrics(), log, now: () => 1_800_000_000_000 };
}

/** Whether the dispatch task of each configured downstream is stored and scheduled. */
async function dispatchTasks(store: Store, deliveryId: string): Promise<boolean[]> {
  return Promise.all(
    ["ascend/pytorch", "vendor/backend"].map(async (repo) => {
      const id = `dispatch:${deliveryId}:${repo}`;
      return (await store.get(`relay:outbox:task:${id}`)) !== null && (await store.zscore("relay:outbox:due", id)) !== null;
    }),
  );
}

describe("relayDelivery", () => {
  it("stores one dispatch record and one outbox task per downstream, and marks the delivery done", async () => {
    const store = new MemoryStore();
    const outcome = await relayDelivery(deps(store), relayConfig(), { id: "d1", name: "pull_request", payload });
    expect(outcome).toBe("relayed");
    expect(await store.get(deliveryKey("d1"))).toBe("done");
    expect(await dispatchTasks(store, "d1")).toEqual([true, true]);
    const ids = await store.rangeByScoreDesc(runsByPrKey("pytorch/pytorch", 12), Infinity, -Infinity, 10);
    const records = (await store.getMany(ids.map(dispatchKey))).map(parseDispatchRecord);
    expect(records.map((r) => [r?.downstream, r?.level, r?.state, r?.upstream.ref])).toEqual(
      expect.arrayContaining([
        ["Ascend/pytorch", "L3", "pending", "refs/pull/12/head"],
        ["vendor/backend", "L2", "pending", "refs/pull/12/head"],
      ]),
    );
  });

  it("relays a delivery once however many times it arrives, concurrently or not", async () => {
    const store = new MemoryStore();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => relayDelivery(deps(store), relayConfig(), { id: "same", name: "pull_request", payload })),
    );
    expect(outcomes.filter((o) => o === "relayed")).toHaveLength(1);
    expect(await relayDelivery(deps(store), relayConfig(), { id: "same", name: "pull_request", payload })).toBe("duplicate");
    expect(await dispatchTasks(store, "same")).toEqual([true, true]);
    const ids = await store.rangeByScoreDesc(runsByPrKey("pytorch/pytorch", 12), Infinity, -Infinity, 100);
    expect(ids).toHaveLength(2);
  });

  it("does not claim a delivery it does not relay", async () => {
    const store = new MemoryStore();
    const outcome = await relayDelivery(deps(store), relayConfig({ upstreams: ["other/repo"] }), { id: "x", name: "pull_request", payload });
    expect(outcome).toBe("skipped:not-an-upstream");
    expect(await store.get(deliveryKey("x"))).toBeNull();
  });

  it("releases the claim when the plan cannot be stored, so a redelivery succeeds", async () => {
    const store = new MemoryStore();
    const failing: Store = Object.assign(Object.create(store) as Store, {
      write: async (ops: WriteOp[]) => {
        if (ops.length > 1) throw new Error("connection lost");
        return store.write(ops);
      },
    });
    await expect(relayDelivery(deps(failing), relayConfig(), { id: "d", name: "pull_request", payload })).rejects.toThrow("connection lost");
    expect(await store.get(deliveryKey("d"))).toBeNull();
    expect(await store.zcard("relay:outbox:due")).toBe(0);
    expect(await relayDelivery(deps(store), relayConfig(), { id: "d", name: "pull_request", payload })).toBe("relayed");
  });
});
