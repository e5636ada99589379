import { readDispatch, recordDispatchOps } from "../../../src/records/dispatches";
import { parseDeliverySummary } from "../../../src/records/deliveries";
import { keys } from "../../../src/records/keys";
import { CorruptRecordError } from "../../../src/records/read-record";
import { MemoryStore } from "../../../src/store/memory-store";
import { dispatchRecord } from "../../support/dispatch-fixtures";

describe("records are validated on read", () => {
  const store = new MemoryStore();

  it("reads back what its op builder stored", async () => {
    const record = dispatchRecord({ requestId: "read-back" });
    await store.write(recordDispatchOps(record));
    expect(await readDispatch(store, "read-back")).toEqual(record);
  });

  it("is null for a record that is not there", async () => {
    expect(await readDispatch(store, "never-written")).toBeNull();
  });

  it.each([
    ["not JSON", "{", /dispatch record is corrupt: not JSON/],
    ["another shape", JSON.stringify({ requestId: "x", state: "lost" }), /dispatch record is corrupt: .*state/],
  ])("refuses %s with a CorruptRecordError naming the family", async (_, stored, message) => {
    await store.write([{ op: "set", key: keys.dispatches.record("corrupt"), value: stored }]);
    const read = readDispatch(store, "corrupt");
    await expect(read).rejects.toBeInstanceOf(CorruptRecordError);
    await expect(read).rejects.toThrow(message);
  });

  it("leaves a foreign delivery summary out instead of failing the dashboard", () => {
    expect(parseDeliverySummary("{")).toBeNull();
    expect(parseDeliverySummary(JSON.stringify({ deliveryId: 1 }))).toBeNull();
  });
});
