import type { Outbox } from "../outbox/outbox";
import { checkKey, parseCheckRunState, readRawWantedCheckRun, writeIfWantedCheckRunIs } from "../records/check-runs";
import type { DispatchRecord } from "../records/dispatches";
import type { Store } from "../store/store";
import { clearDeadlineOp } from "./check-deadlines";
import { supersededState, wantCheckRunOps } from "./check-run-state";
import { checkNamesOf } from "./recorded-dispatches";
import { tracksCheckRuns } from "./wants-check-runs";

/** What superseding reads (the PR's dispatches and their checks) and writes through. */
export interface SupersedeDeps {
  store: Store;
  outbox: Outbox;
}

export interface PullRequestHead {
  repo: string;
  number: number;
  sha: string;
}

/**
 * SPEC §3: a new head SHA marks the unfinished check runs of the PR's earlier SHAs `cancelled`
 * ("superseded"), given the PR's recorded dispatches (read once per delivery, see
 * `recordedDispatches`). Each check changes only if no other decision changed it meanwhile. Returns
 * how many were ended.
 */
export async function supersedeCheckRuns(
  relay: SupersedeDeps,
  head: PullRequestHead,
  dispatches: readonly DispatchRecord[],
  now: number,
): Promise<number> {
  // Only these can have check runs: an L1/L2 dispatch's names are never read.
  const earlier = dispatches.filter((r) => r.upstream.sha !== head.sha && tracksCheckRuns(r));
  let ended = 0;
  for (const record of earlier) {
    for (const name of await checkNamesOf(relay.store, record)) {
      const key = checkKey(record.upstream.repo, record.upstream.sha, name);
      const raw = await readRawWantedCheckRun(relay.store, key);
      const next = supersededState(parseCheckRunState(raw), now);
      if (
        next &&
        (await writeIfWantedCheckRunIs(relay.store, key, raw, [
          ...wantCheckRunOps(relay.outbox, next, now),
          clearDeadlineOp(next),
        ]))
      ) {
        ended += 1;
      }
    }
  }
  return ended;
}
