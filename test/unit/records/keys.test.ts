import { keys } from "../../../src/records/keys";
import { prefixedKey } from "../../../src/store/prefixed-key";

describe("prefixedKey", () => {
  it("leaves keys as they are without a prefix", () => {
    expect(prefixedKey("", keys.dispatches.record("r"))).toBe(keys.dispatches.record("r"));
  });

  it("puts the prefix in front of every key, so every key the relay writes starts with it (SPEC §6)", () => {
    for (const key of [
      keys.audit,
      keys.jobRequests.stream,
      keys.outbox.lanes,
      keys.outbox.lane("installation:a"),
      keys.jobRequests.maxDeliveries("a/b"),
    ]) {
      expect(prefixedKey("ci:", key).startsWith("ci:")).toBe(true);
    }
  });

  it("keeps the SPEC's stream names exact behind the prefix", () => {
    expect(prefixedKey("ci:", keys.jobRequests.stream)).toBe("ci:relay:jobs");
    expect(prefixedKey("ci:", keys.jobRequests.deadLetters)).toBe("ci:relay:jobs:dlq");
    expect(prefixedKey("ci:", keys.audit)).toBe("ci:relay:audit");
  });

  it("puts the prefix into the hash tag too, so a tag that names the stream names the prefixed stream", () => {
    const marker = prefixedKey("ci:", keys.jobRequests.enqueued("r", "build"));
    expect(marker).toMatch(/^ci:relay:jobs:\{ci:relay:jobs\}:enqueued:/);
  });
});
