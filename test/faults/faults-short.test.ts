import { runFaultScenario, SHORT_RUN, type FaultScenarioResult } from "../support/fault-scenario";

/** The relays' OUTBOX_CONCURRENCY (its default): how many tasks one process has in flight at most. */
const OUTBOX_CONCURRENCY = 8;

/**
 * The short version of `npm run faults` (see SHORT_RUN) that runs with every `npm test`; a red run
 * reproduces with `npm run faults -- --short --seed 20261201`. It counts, never times.
 */

describe("four relays under faults (short run)", () => {
  let result: FaultScenarioResult;

  beforeAll(async () => {
    result = await runFaultScenario({ ...SHORT_RUN, seed: 20_261_201, log: () => undefined });
  }, 360_000);

  /** Fails with the whole printed report, so a red run says what was lost and what was injected. */
  const expectNone = (figures: Record<string, number>) => {
    const nonzero = Object.entries(figures).filter(([, n]) => n !== 0);
    if (nonzero.length > 0)
      throw new Error(`${nonzero.map(([name, n]) => `${name} = ${n}`).join(", ")}\n${result.lines.join("\n")}`);
  };

  it("injects every kind of fault", () => {
    expect(Object.keys(result.report.faults).sort()).toEqual(
      expect.arrayContaining(["hud-outage", "redis-flush", "redis-restart-empty", "redis-restart-persistent"]),
    );
    expect(Object.keys(result.githubFailures).length).toBeGreaterThan(0);
  });

  /**
   * A relay SIGKILLed after GitHub (or the HUD) accepted a request, but before it recorded that, sends
   * it again once its lease runs out: at least once at that one edge, as the README says (neither API
   * takes an idempotency key; downstreams see the same request_id, the HUD upserts the same row). So
   * a duplicate is allowed only for what the kills had in flight: at most one outbox batch per kill.
   */
  const resendBound = () =>
    ((result.report.faults["kill-fan-out"] ?? 0) + (result.report.faults["kill-callback"] ?? 0)) * OUTBOX_CONCURRENCY;

  it("loses no dispatch that Redis still held, and sends none twice but what a kill had in flight", () => {
    const { dispatches } = result.report;
    expectNone({
      "dispatches lost": dispatches.lost,
      "dispatch duplicates beyond the kills' resends": Math.max(0, dispatches.duplicates - resendBound()),
    });
    expect(dispatches.seen).toBeGreaterThan(0);
  });

  it("forwards every accepted callback to the HUD, after its outage too, and none twice but what a kill had in flight", () => {
    const { hudRows } = result.report;
    expectNone({
      "HUD rows lost": hudRows.lost,
      "HUD row duplicates beyond the kills' resends": Math.max(0, hudRows.duplicates - resendBound()),
    });
  });

  it("keeps every relay process running through Redis restarts and a flush", () => {
    expectNone({ "relay exits nobody asked for": result.unexpectedExits.length });
  });
});
