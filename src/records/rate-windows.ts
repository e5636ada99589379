import type { WindowLimit } from "../store/store";
import { keys } from "./keys";

/**
 * The fixed window `window` (living `windowSeconds`) that callbacks of `repo` count in, with the
 * count it allows: for `incrementWindow`, or for a write that counts the callback (`countThenWriteIf`).
 */
export function callbackWindowLimit(repo: string, window: number, windowSeconds: number, limit: number): WindowLimit {
  return { key: keys.callbackRateWindow(repo, window), windowSeconds, limit };
}
