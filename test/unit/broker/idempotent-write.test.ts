import { idempotentWrite } from "../../../src/broker/idempotent-write";
import { MemoryStore } from "../../../src/store/memory-store";

const options = (store: MemoryStore, overrides: Partial<Parameters<typeof idempotentWrite>[0]> = {}) => ({
  store,
  callerRepository: "Ascend/pytorch",
  requestId: "0b7c6f52-2f55-4b8e-9a43-3c1b7a9e8d10",
  fingerprint: "f1",
  pollMs: 5,
  ...overrides,
});

describe("idempotentWrite", () => {
  it("writes once and answers a retry with the first result", async () => {
    const store = new MemoryStore();
    const perform = jest.fn(async () => ({ id: 1 }));
    expect(await idempotentWrite(options(store), perform)).toEqual({ result: { id: 1 }, replay: false });
    expect(await idempotentWrite(options(store, { callerRepository: "ascend/PYTORCH" }), perform)).toEqual({
      result: { id: 1 },
      replay: true,
    });
    expect(perform).toHaveBeenCalledTimes(1);
  });

  it("writes once when identical requests arrive together", async () => {
    const store = new MemoryStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const perform = jest.fn(async () => {
      await gate;
      return { id: 2 };
    });
    const all = Promise.all([1, 2, 3].map(() => idempotentWrite(options(store), perform)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    const results = await all;
    expect(perform).toHaveBeenCalledTimes(1);
    expect(results.map((r) => r.replay).sort()).toEqual([false, true, true]);
    expect(results.every((r) => (r.result as { id: number }).id === 2)).toBe(true);
  });

  it("tells a duplicate that outwaits the first request when it may take the claim over (Retry-After)", async () => {
    const store = new MemoryStore();
    let clock = 1_800_000_000_000;
    const now = () => (clock += 1_000);
    let release: () => void = () => undefined;
    const first = idempotentWrite(
      options(store, { now }),
      () => new Promise<{ id: number }>((resolve) => (release = () => resolve({ id: 3 }))),
    );
    const duplicate = idempotentWrite(options(store, { now, waitMs: 10_000 }), async () => ({ id: 4 }));
    await expect(duplicate).rejects.toMatchObject({ kind: "rate-limited", degradedReason: "write-in-progress" });
    const seconds = ((await duplicate.catch((error: unknown) => error)) as { retryAfterSeconds: number })
      .retryAfterSeconds;
    // Claimed at the first tick, refused some ticks (seconds) later: the rest of the minute-long claim.
    expect(seconds).toBeGreaterThan(30);
    expect(seconds).toBeLessThan(60);
    release();
    await first;
  });

  it("keeps request ids apart per caller repository", async () => {
    const store = new MemoryStore();
    const perform = jest.fn(async () => ({}));
    await idempotentWrite(options(store), perform);
    await idempotentWrite(options(store, { callerRepository: "other/repo" }), perform);
    expect(perform).toHaveBeenCalledTimes(2);
  });

  it("releases the claim when the write fails, so a retry writes", async () => {
    const store = new MemoryStore();
    await expect(idempotentWrite(options(store), async () => Promise.reject(new Error("GitHub 502")))).rejects.toThrow(
      "GitHub 502",
    );
    expect(await idempotentWrite(options(store), async () => ({ id: 3 }))).toEqual({
      result: { id: 3 },
      replay: false,
    });
  });

  it("refuses a requestId reused for a different request", async () => {
    const store = new MemoryStore();
    await idempotentWrite(options(store), async () => ({}));
    await expect(idempotentWrite(options(store, { fingerprint: "f2" }), async () => ({}))).rejects.toMatchObject({
      kind: "validation-failed",
    });
  });

  it("takes over a claim left by a request that died", async () => {
    let clock = 1_000_000;
    const store = new MemoryStore({ now: () => clock });
    // a request that claimed the write and never finished
    void idempotentWrite(options(store, { now: () => clock }), () => new Promise(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock += 61_000;
    expect(await idempotentWrite(options(store, { now: () => clock }), async () => ({ id: 4 }))).toEqual({
      result: { id: 4 },
      replay: false,
    });
  });
});
