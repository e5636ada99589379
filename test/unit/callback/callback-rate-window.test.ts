import { callbackRateWindow } from "../../../src/callback/callback-rate-window";

describe("callbackRateWindow", () => {
  const minute = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

  it("counts every process's callbacks of one clock minute in one window", () => {
    expect(callbackRateWindow(minute, 60).index).toBe(callbackRateWindow(minute + 59_999, 60).index);
    expect(callbackRateWindow(minute + 60_000, 60).index).toBe(callbackRateWindow(minute, 60).index + 1);
  });

  it("says how many whole seconds are left until the window frees, at least one", () => {
    expect(callbackRateWindow(minute, 60).secondsLeft).toBe(60);
    expect(callbackRateWindow(minute + 15_500, 60).secondsLeft).toBe(45);
    expect(callbackRateWindow(minute + 59_999, 60).secondsLeft).toBe(1);
  });
});
