import type { Store } from "../store/store";
import { keys } from "./keys";

/** GitHub's health as every process saw it: the last good call, and since when calls fail (epoch ms). */
export interface StoredGitHubHealth {
  lastOkAt: number | null;
  failingSince: number | null;
}

export async function readGitHubHealth(store: Pick<Store, "getMany">): Promise<StoredGitHubHealth> {
  const [lastOk, failing] = await store.getMany([keys.githubCalls.lastOkAt, keys.githubCalls.failingSince]);
  return { lastOkAt: lastOk === null ? null : Number(lastOk), failingSince: failing === null ? null : Number(failing) };
}

/** A good call ends any failing spell: both in one write. */
export async function recordGitHubOk(store: Pick<Store, "write">, at: number): Promise<void> {
  await store.write([
    { op: "set", key: keys.githubCalls.lastOkAt, value: String(at) },
    { op: "del", key: keys.githubCalls.failingSince },
  ]);
}

/** The first failure anywhere since the last success marks the start; later ones leave it. */
export async function recordGitHubFailing(store: Pick<Store, "setIfAbsent">, since: number): Promise<void> {
  await store.setIfAbsent(keys.githubCalls.failingSince, String(since));
}
