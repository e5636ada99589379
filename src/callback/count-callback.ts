import { RelayError } from "../errors/failure-kinds";
import { countCallbackInWindow } from "../records/rate-windows";
import type { Store } from "../store/store";
import { callbackRateWindow } from "./callback-rate-window";

const RATE_WINDOW_SECONDS = 60;

/**
 * SPEC §4.4: counts one callback against its downstream repository's per-minute limit, atomically
 * across processes, and refuses it (429, Retry-After until the window frees) once over. Every kind of
 * callback a downstream sends, dispatched or nightly, counts in the same window.
 */
export async function countCallback(store: Store, repo: string, limitPerMinute: number, now: number): Promise<void> {
  const window = callbackRateWindow(now, RATE_WINDOW_SECONDS);
  const count = await countCallbackInWindow(store, repo, window.index, RATE_WINDOW_SECONDS);
  if (count > limitPerMinute) {
    throw new RelayError(
      "rate-limited",
      `Too many callbacks for this repository; retry in ${window.secondsLeft} s.`,
      "callback-rate-limited",
      [],
      window.secondsLeft,
    );
  }
}
