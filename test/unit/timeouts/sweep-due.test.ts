import type { DeadlineSet } from "../../../src/records/deadlines";
import { keys } from "../../../src/records/keys";
import { MemoryStore } from "../../../src/store/memory-store";
import { sweepDue } from "../../../src/timeouts/sweep-due";

const NOW = 1_800_000_000_000;
/** Any set of deadlines will do: the loop does not care what times out. */
const DEADLINES: DeadlineSet = "jobs";
const SET = keys.deadlines[DEADLINES];

describe("sweepDue", () => {
  it("hands every due member to the sweep once, past one batch, and leaves what is not due", async () => {
    const store = new MemoryStore({ now: () => NOW });
    const members = Array.from({ length: 250 }, (_, i) => `due-${i}`);
    await store.write([
      ...members.map((member) => ({ op: "zadd" as const, key: SET, member, score: NOW - 1 })),
      { op: "zadd", key: SET, member: "later", score: NOW + 1 },
    ]);
    const seen: string[] = [];
    const timedOut = await sweepDue(
      store,
      { deadlines: DEADLINES, timeOut: async (member) => (seen.push(member), member.endsWith("0")) },
      NOW,
    );
    expect(seen.sort()).toEqual([...members].sort());
    expect(timedOut).toBe(25);
    expect(seen).not.toContain("later");
  });

  it("leases what it hands over: the sweep sees the claim's score, and a member it leaves comes back only after the lease", async () => {
    const store = new MemoryStore({ now: () => NOW });
    await store.write([{ op: "zadd", key: SET, member: "m", score: NOW - 1 }]);
    const scores: (number | null)[] = [];
    const leave = {
      deadlines: DEADLINES,
      timeOut: async (member: string, leased: number) => (scores.push(leased, await store.zscore(SET, member)), false),
    };
    expect(await sweepDue(store, leave, NOW)).toBe(0);
    expect(scores[0]).toBeGreaterThan(NOW);
    expect(scores[1]).toBe(scores[0]);
    // Another sweeper meanwhile finds nothing due; once the lease is over, the member is due again.
    expect(await sweepDue(store, leave, NOW + 1)).toBe(0);
    expect(scores).toHaveLength(2);
    await sweepDue(store, leave, (scores[0] ?? 0) + 1);
    expect(scores).toHaveLength(4);
  });
});
