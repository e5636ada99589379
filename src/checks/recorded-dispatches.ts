import { readCheckNames } from "../records/check-runs";
import {
  listDispatchIds,
  readDispatchesAsStored,
  type DispatchIndex,
  type DispatchRecord,
  type StoredDispatch,
} from "../records/dispatches";
import type { Store } from "../store/store";

/** A PR's or commit's history is short; this bounds a pathological one. */
const MAX_DISPATCHES = 500;
const MAX_CHECKS_PER_DISPATCH = 500;

/** The dispatch records of a PR or a commit, newest first. */
export async function recordedDispatches(store: Store, index: DispatchIndex): Promise<DispatchRecord[]> {
  return (await recordedDispatchesAsStored(store, index)).map(({ record }) => record);
}

/** The same, each with its text as read, for writes conditional on it. */
export async function recordedDispatchesAsStored(store: Store, index: DispatchIndex): Promise<StoredDispatch[]> {
  const ids = await listDispatchIds(store, index, MAX_DISPATCHES);
  if (ids.length === 0) return [];
  return readDispatchesAsStored(store, ids);
}

/** The names of every check run a dispatch has (shown or not). */
export function checkNamesOf(store: Store, record: DispatchRecord): Promise<string[]> {
  return readCheckNames(store, record.requestId, MAX_CHECKS_PER_DISPATCH);
}
