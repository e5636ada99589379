import { RelayError } from "../errors/failure-kinds";
import { callbackWindowLimit } from "../records/rate-windows";
import type { Store, WindowLimit } from "../store/store";
import { callbackRateWindow } from "./callback-rate-window";

const RATE_WINDOW_SECONDS = 60;

/** A callback's place in its downstream's rate window, for a write that counts it (`recordJobReport`). */
export interface CallbackCount {
  window: WindowLimit;
  /** throws the refusal when `count`, the window's count with this callback, is over the limit */
  check(count: number): void;
}

/**
 * SPEC §4.4: one callback of `repo` counts against its per-minute limit, atomically across
 * processes, and is refused (429, Retry-After until the window frees) once over. Every kind of
 * callback a downstream sends, dispatched or nightly, counts in the same window.
 */
export function callbackCount(repo: string, limitPerMinute: number, now: number): CallbackCount {
  const window = callbackRateWindow(now, RATE_WINDOW_SECONDS);
  return {
    window: callbackWindowLimit(repo, window.index, RATE_WINDOW_SECONDS, limitPerMinute),
    check(count) {
      if (count > limitPerMinute) {
        throw new RelayError(
          "rate-limited",
          `Too many callbacks for this repository; retry in ${window.secondsLeft} s.`,
          "callback-rate-limited",
          [],
          window.secondsLeft,
        );
      }
    },
  };
}

/** Counts one callback on its own (a report that writes nothing it could count with) and refuses it once over. */
export async function countCallback(
  store: Pick<Store, "incrementWindow">,
  repo: string,
  limitPerMinute: number,
  now: number,
): Promise<void> {
  const { window, check } = callbackCount(repo, limitPerMinute, now);
  check(await store.incrementWindow(window.key, window.windowSeconds));
}
