import { markTokenUsed } from "../records/replay-guard";
import type { Store } from "../store/store";

/** The token may still be accepted this long past its `exp` (verifier clock skew). */
const CLOCK_SKEW_SECONDS = 60;

/**
 * SPEC §6: a broker token's `jti` is accepted once. True the first time; the key lives as long as the
 * token could still verify, so a replay is refused for the whole of its life.
 */
export async function claimJti(
  store: Pick<Store, "setIfAbsent">,
  jti: string,
  exp: number,
  now: Date = new Date(),
): Promise<boolean> {
  const ttlSeconds = Math.max(1, Math.ceil(exp + CLOCK_SKEW_SECONDS - now.getTime() / 1000));
  return markTokenUsed(store, jti, ttlSeconds);
}
