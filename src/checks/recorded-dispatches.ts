import { dispatchKey, parseDispatchRecord, type DispatchRecord } from "../relay/dispatch-record";
import type { Store } from "../store/store";
import { checkNamesKey } from "./check-run-state";

/** A PR's or commit's history is short; this bounds a pathological one. */
const MAX_DISPATCHES = 500;
const MAX_CHECKS_PER_DISPATCH = 500;

/** The dispatch records of an index (`runsByPrKey`, `runsBySha`), newest first. */
export async function recordedDispatches(store: Store, indexKey: string): Promise<DispatchRecord[]> {
  const ids = await store.rangeByScoreDesc(indexKey, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_DISPATCHES);
  if (ids.length === 0) return [];
  const raw = await store.getMany(ids.map(dispatchKey));
  return raw.map(parseDispatchRecord).filter((r): r is DispatchRecord => r !== null);
}

/** The names of every check run a dispatch has (shown or not). */
export function checkNamesOf(store: Store, record: DispatchRecord): Promise<string[]> {
  return store.rangeByScoreDesc(checkNamesKey(record.requestId), Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_CHECKS_PER_DISPATCH);
}
