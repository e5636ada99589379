import type { Store } from "../store/store";
import { keys } from "./keys";

/** The app's installation id on `repo` as last looked up; null when not cached (or not a number). */
export async function readInstallationId(store: Pick<Store, "get">, repo: string): Promise<number | null> {
  const stored = await store.get(keys.installation(repo));
  const id = stored === null ? Number.NaN : Number(stored);
  return Number.isSafeInteger(id) ? id : null;
}

export async function storeInstallationId(
  store: Pick<Store, "write">,
  repo: string,
  id: number,
  ttlSeconds: number,
): Promise<void> {
  await store.write([{ op: "set", key: keys.installation(repo), value: String(id), ttlSeconds }]);
}

export async function forgetInstallationId(store: Pick<Store, "write">, repo: string): Promise<void> {
  await store.write([{ op: "del", key: keys.installation(repo) }]);
}
