import { dispatchRecordErased, erasedWithRedis, type Erasure } from "../../support/erasure-excuses";

// A FLUSHALL recorded at 10_000 and answered at 10_080, after a grace period from 5_000.
const FLUSH: Erasure = { graceStart: 5_000, at: 10_000, doneAt: 10_080 };

describe("what an erasure of Redis excuses in the faults ledger", () => {
  test("work accepted during the grace period and before the erasure is gone with Redis", () => {
    expect(erasedWithRedis([FLUSH], { sentAt: 9_000, acceptedAt: 9_100 })).toBe(true);
  });

  test("work whose answer came after the fault was recorded, for a request sent before the flush was done, may be gone with Redis", () => {
    // The relay stored it before FLUSHALL ran; its 200 reached the ledger after the fault was recorded.
    expect(erasedWithRedis([FLUSH], { sentAt: 9_990, acceptedAt: 10_040 })).toBe(true);
    expect(erasedWithRedis([FLUSH], { sentAt: 10_050, acceptedAt: 10_120 })).toBe(true);
  });

  test("work sent after the erasure was done is owed", () => {
    expect(erasedWithRedis([FLUSH], { sentAt: 10_080, acceptedAt: 10_150 })).toBe(false);
  });

  test("work accepted before the grace period is owed: a stalled relay cannot hide behind a flush", () => {
    expect(erasedWithRedis([FLUSH], { sentAt: 4_000, acceptedAt: 4_900 })).toBe(false);
  });

  test("nothing is excused without an erasure", () => {
    expect(erasedWithRedis([], { sentAt: 9_000, acceptedAt: 9_100 })).toBe(false);
  });

  test("a no-dispatch answer after the erasure, for a record stored before it was done, is excused", () => {
    expect(dispatchRecordErased([FLUSH], { recordSentAt: 3_000, noDispatchAt: 12_000 })).toBe(true);
    // The dispatch itself went out after the flush (its task was in hand): the record was still erased.
    expect(dispatchRecordErased([FLUSH], { recordSentAt: 10_030, noDispatchAt: 12_000 })).toBe(true);
  });

  test("a no-dispatch answer before the erasure, or for a record stored after it, is not", () => {
    expect(dispatchRecordErased([FLUSH], { recordSentAt: 3_000, noDispatchAt: 9_000 })).toBe(false);
    expect(dispatchRecordErased([FLUSH], { recordSentAt: 10_100, noDispatchAt: 12_000 })).toBe(false);
    expect(dispatchRecordErased([], { recordSentAt: 3_000, noDispatchAt: 12_000 })).toBe(false);
  });
});
