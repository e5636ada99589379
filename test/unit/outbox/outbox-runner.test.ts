import pino from "pino";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox, type OutboxTask } from "../../../src/outbox/outbox";
import { OutboxRunner, type TaskHandler } from "../../../src/outbox/outbox-runner";
import { MemoryStore } from "../../../src/store/memory-store";

const log = pino({ level: "silent" });

function httpError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP ${status}`), { status, response: { headers } });
}

function setUp(handler: TaskHandler, options: { giveUpAfterMs?: number; concurrency?: number } = {}) {
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const outbox = new Outbox(store);
  const runner = new OutboxRunner({
    outbox,
    handlers: { work: handler },
    log,
    metrics: createMetrics(),
    concurrency: options.concurrency ?? 4,
    leaseMs: 60_000,
    giveUpAfterMs: options.giveUpAfterMs ?? 3_600_000,
    now: clock.now,
  });
  return { clock, store, outbox, runner };
}

describe("OutboxRunner", () => {
  it("runs each due task once and removes it", async () => {
    const ran: string[] = [];
    const { outbox, runner, clock } = setUp({ run: async (t) => void ran.push(t.id) });
    for (const id of ["a", "b", "c"]) await outbox.enqueue({ id, kind: "work", data: {} }, clock.now());
    expect(await runner.drain()).toBe(3);
    expect(ran.sort()).toEqual(["a", "b", "c"]);
    expect(await runner.drain()).toBe(0);
    expect(await outbox.depth()).toBe(0);
  });

  it("does not run a task before it is due", async () => {
    const ran: string[] = [];
    const { outbox, runner, clock } = setUp({ run: async (t) => void ran.push(t.id) });
    await outbox.enqueue({ id: "later", kind: "work", data: {} }, clock.now(), clock.now() + 10_000);
    expect(await runner.drain()).toBe(0);
    clock.advance(10_000);
    expect(await runner.drain()).toBe(1);
  });

  it("retries a 5xx later, not at once, and honours retry-after", async () => {
    let calls = 0;
    const { outbox, runner, clock } = setUp({
      run: async () => {
        calls += 1;
        if (calls === 1) throw httpError(502);
        if (calls === 2) throw httpError(429, { "retry-after": "120" });
      },
    });
    await outbox.enqueue({ id: "t", kind: "work", data: {} }, clock.now());
    await runner.drain();
    expect(calls).toBe(1);
    clock.advance(4_000); // first backoff is 1-2 s
    await runner.drain();
    expect(calls).toBe(2);
    clock.advance(60_000);
    await runner.drain();
    expect(calls).toBe(2); // GitHub asked for 120 s
    clock.advance(60_000);
    await runner.drain();
    expect(calls).toBe(3);
    expect(await outbox.depth()).toBe(0);
  });

  it("tells the handler of each retry with the attempt count and next try; a failing hook does not stop the retry", async () => {
    const told: [number, number][] = [];
    const { outbox, runner, clock } = setUp({
      run: async () => Promise.reject(httpError(503)),
      retrying: (_task, _failure, next) => {
        told.push([next.attempts, next.nextAttemptAt]);
        throw new Error("the record could not be written");
      },
    });
    await outbox.enqueue({ id: "t", kind: "work", data: {} }, clock.now());
    await runner.drain();
    expect(told).toHaveLength(1);
    expect(told[0][0]).toBe(1);
    expect(told[0][1]).toBeGreaterThan(clock.now());
    clock.advance(told[0][1] - clock.now());
    await runner.drain();
    expect(told.map(([attempts]) => attempts)).toEqual([1, 2]);
  });

  it("gives up at once on a client error and records it", async () => {
    const givenUp: [OutboxTask, string][] = [];
    const { outbox, runner, clock, store } = setUp({
      run: async () => {
        throw httpError(422);
      },
      giveUp: async (task, failure) => void givenUp.push([task, failure.summary]),
    });
    await outbox.enqueue({ id: "bad", kind: "work", data: { x: 1 } }, clock.now());
    await runner.drain();
    expect(givenUp.map(([t, s]) => [t.id, s])).toEqual([["bad", "HTTP 422"]]);
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard("relay:outbox:dead")).toBe(1);
  });

  it("gives up on retryable failures once the task is older than the horizon", async () => {
    const givenUp: string[] = [];
    const { outbox, runner, clock } = setUp(
      { run: async () => Promise.reject(httpError(503)), giveUp: async (t) => void givenUp.push(t.id) },
      { giveUpAfterMs: 30_000 },
    );
    await outbox.enqueue({ id: "t", kind: "work", data: {} }, clock.now());
    for (let i = 0; i < 10 && givenUp.length === 0; i++) {
      await runner.drain();
      clock.advance(20_000);
    }
    expect(givenUp).toEqual(["t"]);
    expect(await outbox.depth()).toBe(0);
  });

  it("keeps retrying a handler's tasks past the runner's horizon until the handler's own", async () => {
    const givenUp: string[] = [];
    let calls = 0;
    const { outbox, runner, clock } = setUp(
      {
        run: async () => {
          calls += 1;
          throw httpError(503);
        },
        giveUp: async (t) => void givenUp.push(t.id),
        giveUpAfterMs: 120_000,
      },
      { giveUpAfterMs: 30_000 },
    );
    await outbox.enqueue({ id: "t", kind: "work", data: {} }, clock.now());
    for (let i = 0; i < 5; i++) {
      await runner.drain();
      clock.advance(20_000);
    }
    // Failed at 0, 20, 40, 60 and 80 s (every backoff so far is under 20 s): past the runner's 30 s,
    // not the handler's 120 s.
    expect(calls).toBe(5);
    expect(givenUp).toEqual([]);
    for (let i = 0; i < 10 && givenUp.length === 0; i++) {
      await runner.drain();
      clock.advance(20_000);
    }
    expect(givenUp).toEqual(["t"]);
    expect(await outbox.depth()).toBe(0);
  });

  it("lets another runner take over a task whose runner died (lease expiry)", async () => {
    const { outbox, clock, store } = setUp({ run: async () => undefined });
    await outbox.enqueue({ id: "orphan", kind: "work", data: {} }, clock.now());
    const claimed = await outbox.claim(clock.now(), 60_000, 10); // a runner claims it and dies
    expect(claimed.map((t) => t.id)).toEqual(["orphan"]);
    const survivor = new OutboxRunner({
      outbox: new Outbox(store),
      handlers: { work: { run: async () => undefined } },
      log,
      metrics: createMetrics(),
      concurrency: 2,
      leaseMs: 60_000,
      giveUpAfterMs: 3_600_000,
      now: clock.now,
    });
    expect(await survivor.drain()).toBe(0); // still leased
    clock.advance(60_001);
    expect(await survivor.drain()).toBe(1);
  });

  it("never runs more than `concurrency` tasks at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const { outbox, runner, clock } = setUp(
      {
        run: async () => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight -= 1;
        },
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) await outbox.enqueue({ id: `t${i}`, kind: "work", data: {} }, clock.now());
    expect(await runner.drain()).toBe(20);
    expect(peak).toBe(3);
  });

  it("lets every task of a batch finish before a store failure ends the drain", async () => {
    const finished: string[] = [];
    const { outbox, runner, clock } = setUp({
      run: async (t) => {
        await new Promise((resolve) => setTimeout(resolve, t.id === "slow" ? 30 : 0));
        finished.push(t.id);
      },
    });
    await outbox.enqueue({ id: "fast", kind: "work", data: {} }, clock.now());
    await outbox.enqueue({ id: "slow", kind: "work", data: {} }, clock.now());
    // The store fails for "fast" after its work is done: neither completing nor rescheduling it works.
    const [complete, retryAt] = [outbox.complete.bind(outbox), outbox.retryAt.bind(outbox)];
    outbox.complete = async (task) => (task.id === "fast" ? Promise.reject(new Error("store down")) : complete(task));
    outbox.retryAt = async (task, dueAt, error) => (task.id === "fast" ? Promise.reject(new Error("store down")) : retryAt(task, dueAt, error));
    await expect(runner.drain()).rejects.toThrow("store down");
    expect(finished.sort()).toEqual(["fast", "slow"]);
  });

  it("buries a task of an unknown kind instead of retrying it forever", async () => {
    const { outbox, runner, clock, store } = setUp({ run: async () => undefined });
    await outbox.enqueue({ id: "alien", kind: "from-the-future", data: {} }, clock.now());
    await runner.drain();
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard("relay:outbox:dead")).toBe(1);
  });
});
