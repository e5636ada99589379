import { claimDueDeadlines, type DeadlineSet } from "../records/deadlines";
import type { Store } from "../store/store";

/** Deadlines taken per round; a sweeper that dies frees its share after the lease. */
const BATCH = 100;
const LEASE_MS = 60_000;

/** One kind of timeout: where its deadlines are, and what a passed deadline does to its member. */
export interface DueSweep {
  /** its set of deadlines (records/deadlines.ts): scored by deadline (epoch ms), one member per thing that can time out */
  deadlines: DeadlineSet;
  /**
   * Decides and acts on one member whose deadline passed, claimed with `leasedScore` as its score
   * (a different score means a decision set a new deadline since). True when it timed out; a member
   * it neither times out nor removes is looked at again once the lease runs out.
   */
  timeOut(member: string, leasedScore: number): Promise<boolean>;
}

/**
 * The one loop every timeout runs on: claims what is due a batch at a time, leased, so several
 * processes may sweep at once without acting twice, until nothing is due. Returns how many timed out.
 */
export async function sweepDue(store: Pick<Store, "claimDue">, sweep: DueSweep, now: number): Promise<number> {
  const leasedScore = now + LEASE_MS;
  let timedOut = 0;
  for (;;) {
    const due = await claimDueDeadlines(store, sweep.deadlines, now, leasedScore, BATCH);
    if (due.length === 0) return timedOut;
    for (const member of due) if (await sweep.timeOut(member, leasedScore)) timedOut += 1;
  }
}
