/**
 * The fixed window a callback at `now` counts in: windows are aligned to the clock, so every process
 * counts in the same one and a refused caller can be told exactly when it frees — in whole seconds,
 * at least one (Retry-After). Pure.
 */
export function callbackRateWindow(now: number, windowSeconds: number): { index: number; secondsLeft: number } {
  const windowMs = windowSeconds * 1000;
  const index = Math.floor(now / windowMs);
  return { index, secondsLeft: Math.max(1, Math.ceil(((index + 1) * windowMs - now) / 1000)) };
}
