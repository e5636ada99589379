import { drainDeadline } from "../../../src/lambda/drain-deadline";

describe("drainDeadline", () => {
  it("stops after the budget when the invocation has time to spare", () => {
    expect(drainDeadline(1_000, 2_000, 29_000)).toBe(3_000);
  });

  it("keeps half the remaining time for the last batch when that is shorter", () => {
    expect(drainDeadline(1_000, 50_000, 60_000)).toBe(31_000);
  });

  it("takes no work when the invocation has no time left", () => {
    expect(drainDeadline(1_000, 2_000, 0)).toBe(1_000);
  });

  it("uses the whole budget outside Lambda, where no remaining time is known", () => {
    expect(drainDeadline(1_000, 2_000)).toBe(3_000);
  });
});
