import { expect } from "@jest/globals";
import pino from "pino";
import { WriteSlotUnavailable } from "../../../src/github/pace-writes";
import { createMetrics } from "../../../src/metrics/metrics";
import { installationLane } from "../../../src/outbox/lanes";
import { Outbox } from "../../../src/outbox/outbox";
import { OutboxRunner, type TaskHandler } from "../../../src/outbox/outbox-runner";
import { keys } from "../../../src/records/keys";
import { listDeadTaskIds } from "../../../src/records/outbox-tasks";
import { CorruptRecordError } from "../../../src/records/read-record";
import type { NewTask } from "../../../src/outbox/task-data";
import { MemoryStore } from "../../../src/store/memory-store";
import { RedisStore } from "../../../src/store/redis-store";
import type { Store } from "../../../src/store/store";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../../support/redis-prefix";
import { handlersFor } from "../../support/task-handlers";

const log = pino({ level: "silent" });
const T0 = 1_800_000_000_000;

const stores: Array<[string, () => { store: Store; cleanup: () => Promise<void> }]> = [
  ["memory", () => ({ store: new MemoryStore({ now: () => T0 }), cleanup: async () => undefined })],
  [
    "redis",
    () => {
      const prefix = uniqueRedisPrefix();
      const store = new RedisStore(testRedisUrl(), prefix);
      return { store, cleanup: async () => (await store.close(), void (await cleanupRedisPrefix(prefix))) };
    },
  ],
];

describe.each(stores)("Outbox lanes on the %s store", (_name, open) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let outbox: Outbox;
  let now: number;

  beforeEach(() => {
    ({ store, cleanup } = open());
    outbox = new Outbox(store);
    now = T0;
  });
  afterEach(() => cleanup());

  const task = (id: string, repo: string): NewTask<"dispatch"> => ({
    id,
    kind: "dispatch",
    lane: installationLane(repo),
    data: { requestId: "r" },
  });

  function runner(handler: TaskHandler<"dispatch">, concurrency = 1) {
    return new OutboxRunner({
      outbox,
      handlers: handlersFor({ dispatch: handler }),
      log,
      metrics: createMetrics(),
      concurrency,
      leaseMs: 60_000,
      giveUpAfterMs: 3_600_000,
      now: () => now,
    });
  }

  test("a task for an idle installation is claimed within the next claims, whatever another installation has queued", async () => {
    const backlog = Array.from({ length: 1000 }, (_, i) => task(`a-${i}`, "busy-org/repo"));
    for (let i = 0; i < backlog.length; i += 100)
      await store.write(backlog.slice(i, i + 100).flatMap((t, j) => outbox.enqueueOps(t, now - 10_000 + i + j)));
    await outbox.enqueue(task("b-0", "quiet-org/repo"), now);

    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(...(await outbox.claim(now, 60_000, 1)).map((lease) => lease.task.id));
    expect(order.indexOf("b-0")).toBeGreaterThanOrEqual(0);
    expect(order.indexOf("b-0")).toBeLessThan(2);
    // The busy installation's own work still goes oldest first.
    expect(order.filter((id) => id.startsWith("a-"))).toEqual(["a-0", "a-1"].slice(0, order.length - 1));
  });

  test("a batch claim takes work of every due lane before more of any one lane", async () => {
    for (let i = 0; i < 20; i++) await outbox.enqueue(task(`a-${i}`, "busy-org/repo"), now - 1_000);
    await outbox.enqueue(task("b-0", "other-org/repo"), now);
    await outbox.enqueue({ id: "hud-0", kind: "dispatch", lane: "hud", data: { requestId: "r" } }, now);
    const ids = (await outbox.claim(now, 60_000, 4)).map((lease) => lease.task.id);
    expect(ids).toHaveLength(4);
    expect(ids.slice(0, 3).sort()).toEqual(["a-0", "b-0", "hud-0"]);
  });

  test("waiting for a write slot is no failed attempt: rescheduled at the slot, never given up for it, and its lane waits with it", async () => {
    let slotFreeAt = now + 1_500;
    const sent: string[] = [];
    const paced = runner({
      async run(t) {
        if (t.lane !== installationLane("busy-org/repo")) return void sent.push(t.id);
        if (now < slotFreeAt) throw new WriteSlotUnavailable(7, slotFreeAt - now);
        sent.push(t.id);
        slotFreeAt = now + 1_000;
      },
    });
    await outbox.enqueue(task("a-0", "busy-org/repo"), now);
    await outbox.enqueue(task("a-1", "busy-org/repo"), now);
    await outbox.enqueue(task("b-0", "quiet-org/repo"), now);

    await paced.drain(now + 1);
    expect(sent).toEqual(["b-0"]);
    const waiting = await outbox.peek("a-0");
    expect(waiting).toMatchObject({ attempts: 0, lastError: null, deferredMs: 1_500 });
    // The lane waits for the slot: its other task is not even claimed meanwhile.
    expect((await outbox.claim(now + 1_499, 60_000, 10)).map((l) => l.task.id)).toEqual([]);

    // Two hours of slots always taken: deferred again and again, never given up.
    for (let i = 0; i < 48; i++) {
      now += 150_000;
      slotFreeAt = now + 150_000;
      await paced.drain(now + 1);
    }
    expect(await outbox.peek("a-0")).toMatchObject({ attempts: 0, lastError: null });
    expect(sent).toEqual(["b-0"]);

    now = slotFreeAt;
    await paced.drain(now + 1);
    expect(sent).toEqual(["b-0", "a-0"]);
  });

  test("a real failure after long waits for slots is retried: only time GitHub was unwell counts towards giving up", async () => {
    let mode: "paced" | "failing" = "paced";
    const flaky = runner({
      async run() {
        if (mode === "paced") throw new WriteSlotUnavailable(7, 120_000);
        throw Object.assign(new Error("HTTP 502"), { status: 502, response: { headers: {} } });
      },
    });
    await outbox.enqueue(task("a-0", "busy-org/repo"), now);
    for (let i = 0; i < 40; i++) {
      await flaky.drain(now + 1);
      now += 120_000;
    }
    mode = "failing";
    await flaky.drain(now + 1);
    expect(await outbox.peek("a-0")).toMatchObject({ attempts: 1, lastError: expect.stringContaining("502") });
    expect(await listDeadTaskIds(store, 10)).toEqual([]);
  });

  test("enqueueing a waiting task again replaces it: one run for both decisions", async () => {
    const ran: unknown[] = [];
    const once = runner({ run: async (t) => void ran.push(t.data) });
    await outbox.enqueue({ ...task("check-run:x", "org/repo"), data: { requestId: "v1" } }, now);
    await outbox.enqueue({ ...task("check-run:x", "org/repo"), data: { requestId: "v2" } }, now);
    expect(await outbox.depth()).toBe(1);
    expect(await once.drain()).toBe(1);
    expect(ran).toEqual([{ requestId: "v2" }]);
    expect(await outbox.depth()).toBe(0);
  });

  test("a task enqueued again while it runs runs again after, so the newer decision is not lost", async () => {
    let runs = 0;
    const again = runner({
      async run() {
        runs += 1;
        if (runs === 1) await outbox.enqueue(task("check-run:x", "org/repo"), now);
      },
    });
    await outbox.enqueue(task("check-run:x", "org/repo"), now);
    expect(await again.drain()).toBe(2);
    expect(runs).toBe(2);
    expect(await outbox.depth()).toBe(0);
  });

  test("tasks left in the single due set of a version before lanes are still run", async () => {
    const legacy = {
      id: "old",
      kind: "dispatch",
      data: { requestId: "r" },
      createdAt: now,
      attempts: 0,
      lastError: null,
    };
    await store.write([
      { op: "set", key: keys.outbox.task("old"), value: JSON.stringify(legacy) },
      { op: "zadd", key: keys.outbox.legacyDue, member: "old", score: now },
      { op: "zadd", key: keys.outbox.dueSince, member: "old", score: now },
    ]);
    const ran: string[] = [];
    expect(await runner({ run: async (t) => void ran.push(t.id) }).drain()).toBe(1);
    expect(ran).toEqual(["old"]);
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard(keys.outbox.legacyDue)).toBe(0);
  });

  test("a corrupt task is a clear error to read, and a claim sets it aside among the dead instead of stalling its lane", async () => {
    await outbox.enqueue(task("broken", "org/repo"), now);
    await outbox.enqueue(task("fine", "org/repo"), now);
    await store.write([
      { op: "set", key: keys.outbox.task("broken"), value: JSON.stringify({ id: "broken", kind: 7 }) },
    ]);
    await expect(outbox.peek("broken")).rejects.toThrow(CorruptRecordError);
    await expect(outbox.peek("broken")).rejects.toThrow(/outbox task record is corrupt: kind/);
    const ran: string[] = [];
    const drainer = runner({ run: async (t) => void ran.push(t.id) });
    // The claim that takes the corrupt task sets it aside and leases nothing; the next one goes on.
    expect((await drainer.drain()) + (await drainer.drain())).toBe(1);
    expect(ran).toEqual(["fine"]);
    expect(await listDeadTaskIds(store, 10)).toEqual(["broken"]);
    expect(await outbox.depth()).toBe(0);
  });
});
