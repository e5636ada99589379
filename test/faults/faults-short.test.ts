import { runFaultScenario, SHORT_RUN, type FaultScenarioResult } from "../support/fault-scenario";

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
    if (nonzero.length > 0) throw new Error(`${nonzero.map(([name, n]) => `${name} = ${n}`).join(", ")}\n${result.lines.join("\n")}`);
  };

  it("injects every kind of fault", () => {
    expect(Object.keys(result.report.faults).sort()).toEqual(
      expect.arrayContaining(["hud-outage", "redis-flush", "redis-restart-empty", "redis-restart-persistent"]),
    );
    expect(Object.keys(result.githubFailures).length).toBeGreaterThan(0);
  });

  // Currently fails on issue 9 defect 1 (throttle): after the flush and the restart without persistence
  // Bottleneck's Redis datastore never re-initialises, so no dispatch is sent again; and on defect 6
  // (life): work claimed by a killed process waits out the 120 s lease. Expected green once merged.
  it("loses no dispatch that Redis still held, and sends none twice", () => {
    const { dispatches } = result.report;
    expectNone({ "dispatches lost": dispatches.lost, "dispatch duplicates": dispatches.duplicates });
    expect(dispatches.seen).toBeGreaterThan(0);
  });

  // Currently fails on issue 9 defects 1 and 6, as above, for the HUD rows behind those dispatches.
  it("forwards every accepted callback to the HUD once, after its outage too", () => {
    const { hudRows } = result.report;
    expectNone({ "HUD rows lost": hudRows.lost, "HUD row duplicates": hudRows.duplicates });
  });

  // Currently fails on issue 9 defect 8 (life) if a relay exits when Redis restarts.
  it("keeps every relay process running through Redis restarts and a flush", () => {
    expectNone({ "relay exits nobody asked for": result.unexpectedExits.length });
  });
});
