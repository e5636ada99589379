import type { Store } from "../store/store";
import { keys } from "./keys";

/** Missed-delivery checks (SPEC §3): one lock per relay, the mark of how far a check got, and who was asked for. */

/** True when this call took the check for `ttlSeconds` (no other process checks meanwhile). */
export function lockRedeliveryCheck(
  store: Pick<Store, "setIfAbsent">,
  now: number,
  ttlSeconds: number,
): Promise<boolean> {
  return store.setIfAbsent(keys.redelivery.lock, String(now), ttlSeconds);
}

/** delivered_at (epoch ms) of the newest delivery a finished check listed; null without a mark. */
export async function readSeenUntil(store: Pick<Store, "get">): Promise<number | null> {
  const mark = Number((await store.get(keys.redelivery.seenUntil)) ?? Number.NaN);
  return Number.isFinite(mark) ? mark : null;
}

export async function storeSeenUntil(store: Pick<Store, "write">, mark: number): Promise<void> {
  await store.write([{ op: "set", key: keys.redelivery.seenUntil, value: String(mark) }]);
}

/** Remembers asking GitHub to redeliver `guid`; true the first time within `ttlSeconds`. */
export function markRedeliveryAsked(
  store: Pick<Store, "setIfAbsent">,
  guid: string,
  now: number,
  ttlSeconds: number,
): Promise<boolean> {
  return store.setIfAbsent(keys.redelivery.asked(guid), String(now), ttlSeconds);
}

/** Forgets the ask, so the next check asks again. */
export async function forgetRedeliveryAsked(store: Pick<Store, "write">, guid: string): Promise<void> {
  await store.write([{ op: "del", key: keys.redelivery.asked(guid) }]);
}
