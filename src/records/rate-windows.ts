import type { Store } from "../store/store";
import { keys } from "./keys";

/** Counts one callback of `repo` in fixed window `window` (lives `windowSeconds`); returns the count so far. */
export function countCallbackInWindow(
  store: Pick<Store, "incrementWindow">,
  repo: string,
  window: number,
  windowSeconds: number,
): Promise<number> {
  return store.incrementWindow(keys.callbackRateWindow(repo, window), windowSeconds);
}
