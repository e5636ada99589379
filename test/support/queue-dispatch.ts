import type { DispatchRecord } from "../../src/records/dispatches";
import { dispatchRecord } from "./dispatch-fixtures";

/** A pending dispatch to a queue downstream, as relayDelivery stores it. */
export function queueDispatch(overrides: Partial<DispatchRecord> = {}): DispatchRecord {
  return dispatchRecord({
    requestId: "6f0c5b9e-1111-4222-8333-444455556666",
    upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/7/head", prNumber: 7 },
    downstream: "Farm/Gate",
    level: "L4",
    transport: "queue",
    state: "pending",
    createdAt: Date.parse("2030-01-01T00:00:00Z"),
    dispatchedAt: null,
    ...overrides,
  });
}
