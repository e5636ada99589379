import { createHash } from "node:crypto";
import type { Store } from "../store/store";
import { keys } from "./keys";

/**
 * Marks a token id used for `ttlSeconds`; true the first time. The id is hashed: it is part of a
 * bearer credential and the store never holds one in clear.
 */
export function markTokenUsed(store: Pick<Store, "setIfAbsent">, jti: string, ttlSeconds: number): Promise<boolean> {
  return store.setIfAbsent(keys.replayGuard(createHash("sha256").update(jti).digest("hex")), "1", ttlSeconds);
}
