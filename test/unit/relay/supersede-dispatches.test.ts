import type { DispatchRecord } from "../../../src/records/dispatches";
import { supersededDispatches } from "../../../src/relay/supersede-dispatches";

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
