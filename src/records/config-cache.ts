import type { Store } from "../store/store";
import { keys } from "./keys";

/** The relay config text cached for one source (by its hash); null when not cached. */
export function readCachedConfig(store: Pick<Store, "get">, sourceHash: string): Promise<string | null> {
  return store.get(keys.configCache(sourceHash));
}

export async function cacheConfig(
  store: Pick<Store, "write">,
  sourceHash: string,
  text: string,
  ttlSeconds: number | undefined,
): Promise<void> {
  await store.write([{ op: "set", key: keys.configCache(sourceHash), value: text, ttlSeconds }]);
}
