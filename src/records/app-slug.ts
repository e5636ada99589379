import type { Store } from "../store/store";
import { keys } from "./keys";

/** The app's slug as last looked up by any process; null when unknown. */
export function readAppSlug(store: Pick<Store, "get">): Promise<string | null> {
  return store.get(keys.appSlug);
}

export async function storeAppSlug(store: Pick<Store, "write">, slug: string, ttlSeconds: number): Promise<void> {
  await store.write([{ op: "set", key: keys.appSlug, value: slug, ttlSeconds }]);
}
