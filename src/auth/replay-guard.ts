import { createHash } from "node:crypto";
import type { Store } from "../store/store";

/** The token may still be accepted this long past its `exp` (verifier clock skew). */
const CLOCK_SKEW_SECONDS = 60;

/**
 * SPEC §6: a broker token's `jti` is accepted once. True the first time; the key lives as long as the
 * token could still verify, so a replay is refused for the whole of its life. The jti is hashed: it
 * is part of a bearer credential and the store never holds one in clear.
 */
export async function claimJti(
  store: Pick<Store, "setIfAbsent">,
  jti: string,
  exp: number,
  now: Date = new Date(),
): Promise<boolean> {
  const ttlSeconds = Math.max(1, Math.ceil(exp + CLOCK_SKEW_SECONDS - now.getTime() / 1000));
  const key = `relay:jti:${createHash("sha256").update(jti).digest("hex")}`;
  return store.setIfAbsent(key, "1", ttlSeconds);
}
