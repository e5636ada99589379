import { decideHealth } from "../../../src/health/decide-health";

const NOW = Date.parse("2026-01-01T00:10:00Z");
const healthy = { storeOk: true, configLoaded: true, failingSince: null, oldestDueSeconds: 0, now: NOW };
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("decideHealth (SPEC §6)", () => {
  test("ready and not degraded when the store answers, a config is loaded and nothing is wrong", () => {
    expect(decideHealth(healthy)).toEqual({ ok: true, degraded: [] });
  });

  test("not ready when the store is unreachable or no config is loaded", () => {
    expect(decideHealth({ ...healthy, storeOk: false, oldestDueSeconds: null }).ok).toBe(false);
    expect(decideHealth({ ...healthy, configLoaded: false }).ok).toBe(false);
  });

  test("github-failing only once every call has failed for over a minute", () => {
    expect(decideHealth({ ...healthy, failingSince: ago(60_000) }).degraded).toEqual([]);
    expect(decideHealth({ ...healthy, failingSince: ago(60_001) })).toEqual({ ok: true, degraded: ["github-failing"] });
  });

  test("outbox-stalled only once due work has waited over five minutes", () => {
    expect(decideHealth({ ...healthy, oldestDueSeconds: 300 }).degraded).toEqual([]);
    expect(decideHealth({ ...healthy, oldestDueSeconds: 301, failingSince: ago(120_000) }).degraded).toEqual([
      "github-failing",
      "outbox-stalled",
    ]);
  });
});
