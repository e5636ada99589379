import { createHash } from "node:crypto";
import { claimJti } from "../../../src/auth/replay-guard";
import { keys } from "../../../src/records/keys";
import { MemoryStore } from "../../../src/store/memory-store";

describe("broker jti replay guard", () => {
  const jti = "b0f8a9b2-5f0e-4c1e-9f7a-2c3d4e5f6a7b";
  let clock: number;
  let store: MemoryStore;

  beforeEach(() => {
    clock = Date.parse("2025-03-01T12:00:00Z");
    store = new MemoryStore({ now: () => clock });
  });
  afterEach(() => store.close());

  const exp = () => clock / 1000 + 300;

  test("a jti is accepted the first time and refused after", async () => {
    const tokenExp = exp();

    expect(await claimJti(store, jti, tokenExp, new Date(clock))).toBe(true);
    expect(await claimJti(store, jti, tokenExp, new Date(clock))).toBe(false);
    expect(await claimJti(store, "another-jti", tokenExp, new Date(clock))).toBe(true);
  });

  test("a replay is refused for as long as the token could still verify", async () => {
    const tokenExp = exp();
    await claimJti(store, jti, tokenExp, new Date(clock));

    clock = (tokenExp + 59) * 1000;
    expect(await claimJti(store, jti, tokenExp, new Date(clock))).toBe(false);
    clock = (tokenExp + 61) * 1000;
    expect(await claimJti(store, jti, tokenExp, new Date(clock))).toBe(true);
  });

  test("the store holds the jti only as a hash", async () => {
    await claimJti(store, jti, exp(), new Date(clock));

    const digest = createHash("sha256").update(jti).digest("hex");
    expect(await store.get(keys.replayGuard(digest))).not.toBeNull();
    expect(await store.get(keys.replayGuard(jti))).toBeNull();
  });
});
