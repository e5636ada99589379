import { recordedDispatchesAsStored } from "../../../src/checks/recorded-dispatches";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox } from "../../../src/outbox/outbox";
import {
  readDispatch,
  recordDispatchOps,
  updatedDispatchOp,
  type DispatchRecord,
} from "../../../src/records/dispatches";
import { supersededDispatches, supersedeDispatches } from "../../../src/relay/supersede-dispatches";
import { MemoryStore } from "../../../src/store/memory-store";

const record = (
  requestId: string,
  sha: string,
  createdAt: number,
  state: DispatchRecord["state"] = "pending",
): DispatchRecord => ({
  requestId,
  deliveryId: `d-${requestId}`,
  event: "pull_request",
  action: "synchronize",
  upstream: { repo: "pytorch/pytorch", sha, ref: "refs/pull/1/head", prNumber: 1 },
  downstream: "vendor/backend",
  level: "L2",
  transport: "dispatch",
  state,
  createdAt,
  dispatchedAt: null,
  lastError: null,
});

describe("supersededDispatches", () => {
  it("drops older heads' dispatches not sent yet, and nothing of the new head or anything already sent", () => {
    const records = [
      record("old-pending", "a", 1),
      record("old-sent", "a", 1, "dispatched"),
      record("old-failed", "a", 2, "failed"),
      record("head", "b", 3),
    ];
    expect(supersededDispatches(records, "b").map((r) => r.requestId)).toEqual(["old-pending"]);
  });

  it("never drops a newer head's dispatches when an older head's event is delivered again", () => {
    const records = [record("older", "a", 1), record("newer", "b", 5)];
    expect(supersededDispatches(records, "a")).toEqual([]);
    expect(supersededDispatches(records, "b").map((r) => r.requestId)).toEqual(["older"]);
  });

  it("drops every other head's pending dispatch when the new head has none recorded yet", () => {
    expect(supersededDispatches([record("x", "a", 1), record("y", "c", 2)], "b").map((r) => r.requestId)).toEqual([
      "x",
      "y",
    ]);
  });
});

describe("supersedeDispatches", () => {
  const head = { repo: "pytorch/pytorch", number: 1, sha: "b" };

  async function storedPr(...records: DispatchRecord[]) {
    const store = new MemoryStore();
    await store.write(records.flatMap(recordDispatchOps));
    return { store, relay: { store, outbox: new Outbox(store), metrics: createMetrics() } };
  }

  it("drops a dispatch the listing read as pending, when it is still stored as read", async () => {
    const { store, relay } = await storedPr(record("old", "a", 1));
    const listed = await recordedDispatchesAsStored(store, { repo: head.repo, pr: head.number });
    expect(await supersedeDispatches(relay, head, listed, 10)).toBe(1);
    expect(await readDispatch(store, "old")).toMatchObject({
      state: "superseded",
      supersededBy: "b",
      supersededAt: 10,
    });
  });

  it("decides afresh on a record changed since the listing: still pending is dropped, sent meanwhile is kept", async () => {
    const { store, relay } = await storedPr(record("retried", "a", 1), record("sent", "a", 2));
    const listed = await recordedDispatchesAsStored(store, { repo: head.repo, pr: head.number });
    await store.write([
      updatedDispatchOp({ ...record("retried", "a", 1), attempts: 1, lastError: "502", nextAttemptAt: 5 }),
      updatedDispatchOp(record("sent", "a", 2, "dispatched")),
    ]);
    expect(await supersedeDispatches(relay, head, listed, 10)).toBe(1);
    expect(await readDispatch(store, "retried")).toMatchObject({
      state: "superseded",
      attempts: 1,
      nextAttemptAt: null,
    });
    expect((await readDispatch(store, "sent"))?.state).toBe("dispatched");
  });
});
