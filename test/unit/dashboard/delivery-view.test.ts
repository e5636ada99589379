import { downstreamView, parseDeliveriesQuery, parseDeliveryId } from "../../../src/dashboard/delivery-view";
import { RelayError } from "../../../src/errors/failure-kinds";
import type { OutboxTask } from "../../../src/outbox/outbox";
import type { DeliverySummaryEntry } from "../../../src/records/deliveries";
import type { DispatchRecord } from "../../../src/records/dispatches";

const dispatched: DeliverySummaryEntry = {
  repo: "vendor/backend",
  level: "L2",
  transport: "dispatch",
  dispatched: true,
  reason: null,
  detail: null,
  dispatchId: "req-1",
};

function record(overrides: Partial<DispatchRecord>): DispatchRecord {
  return {
    requestId: "req-1",
    deliveryId: "d",
    event: "pull_request",
    action: "opened",
    upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", prNumber: 1 },
    downstream: "vendor/backend",
    level: "L2",
    transport: "dispatch",
    state: "pending",
    createdAt: 0,
    dispatchedAt: null,
    lastError: null,
    ...overrides,
  };
}

const task = (attempts: number, lastError: string | null): OutboxTask => ({
  id: "t",
  kind: "dispatch",
  data: {},
  createdAt: 0,
  attempts,
  lastError,
});

describe("downstreamView", () => {
  it("a skipped downstream shows its reason", () => {
    const skipped = { ...dispatched, dispatched: false, reason: "branch-not-relayed" as const, dispatchId: null };
    expect(downstreamView(skipped, null, null)).toMatchObject({
      outcome: "skipped",
      reason: "branch-not-relayed",
      dispatchId: null,
    });
  });

  it("a dispatch waiting for its first try is queued; one sent is dispatched", () => {
    expect(downstreamView(dispatched, record({}), task(0, null))).toMatchObject({
      outcome: "queued",
      dispatchId: "req-1",
    });
    expect(downstreamView(dispatched, record({ state: "dispatched" }), null)).toMatchObject({
      outcome: "dispatched",
      reason: null,
    });
  });

  it("a dispatch that failed and will be tried again is retrying, with its last error and attempts", () => {
    expect(downstreamView(dispatched, record({}), task(2, "HTTP 502"))).toMatchObject({
      outcome: "retrying",
      reason: "HTTP 502",
      attempts: 2,
    });
  });

  it("a dispatch given up is failed, with the reason recorded", () => {
    expect(
      downstreamView(dispatched, record({ state: "failed", lastError: "HTTP 404" }), task(1, "HTTP 404")),
    ).toMatchObject({
      outcome: "failed",
      reason: "HTTP 404",
    });
  });

  it("a dispatched L3 keeps label-missing as its reason", () => {
    const l3 = { ...dispatched, level: "L3" as const, reason: "label-missing" as const };
    expect(downstreamView(l3, record({ state: "dispatched", level: "L3" }), null)).toMatchObject({
      outcome: "dispatched",
      reason: "label-missing",
    });
  });
});

describe("parseDeliveryId", () => {
  it("takes a GitHub delivery GUID", () => {
    expect(parseDeliveryId("58474F00-B361-11EB-836D-0E4F3503CCBE")).toBe("58474f00-b361-11eb-836d-0e4f3503ccbe");
  });

  it.each(["", "x", "../../etc", "58474f00-b361-11eb-836d-0e4f3503ccbe-1", "relay:delivery:1"])(
    "refuses %j as validation-failed",
    (id) => {
      expect(() => parseDeliveryId(id)).toThrow(RelayError);
    },
  );
});

describe("parseDeliveriesQuery", () => {
  it("needs upstream with pr", () => {
    expect(() => parseDeliveriesQuery({ pr: "3" })).toThrow(RelayError);
    expect(parseDeliveriesQuery({ pr: "3", upstream: "o/r" })).toMatchObject({ pr: 3, upstream: "o/r", limit: 100 });
  });
});
