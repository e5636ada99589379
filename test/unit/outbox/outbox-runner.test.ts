import { expect } from "@jest/globals";
import pino from "pino";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox, type Task } from "../../../src/outbox/outbox";
import { OutboxRunner, type TaskHandler } from "../../../src/outbox/outbox-runner";
import { enqueueForeign, handlersFor } from "../../support/task-handlers";
import { MemoryStore } from "../../../src/store/memory-store";
import { keys } from "../../../src/records/keys";

const log = pino({ level: "silent" });

function httpError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP ${status}`), { status, response: { headers } });
}

function setUp(handler: TaskHandler<"dispatch">, options: { giveUpAfterMs?: number; concurrency?: number } = {}) {
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const outbox = new Outbox(store);
  const runner = new OutboxRunner({
    outbox,
    handlers: handlersFor({ dispatch: handler }),
    log,
    metrics: createMetrics(),
    concurrency: options.concurrency ?? 4,
    leaseMs: 60_000,
    giveUpAfterMs: options.giveUpAfterMs ?? 3_600_000,
    now: clock.now,
  });
  return { clock, store, outbox, runner };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}

describe("OutboxRunner", () => {
  it("runs each due task once and removes it", async () => {
    const ran: string[] = [];
    const { outbox, runner, clock } = setUp({ run: async (t) => void ran.push(t.id) });
    for (const id of ["a", "b", "c"])
      await outbox.enqueue({ id, kind: "dispatch", data: { requestId: "r" } }, clock.now());
    expect(await runner.drain()).toBe(3);
    expect(ran.sort()).toEqual(["a", "b", "c"]);
    expect(await runner.drain()).toBe(0);
    expect(await outbox.depth()).toBe(0);
  });

  it("does not run a task before it is due", async () => {
    const ran: string[] = [];
    const { outbox, runner, clock } = setUp({ run: async (t) => void ran.push(t.id) });
    await outbox.enqueue(
      { id: "later", kind: "dispatch", data: { requestId: "r" } },
      clock.now(),
      clock.now() + 10_000,
    );
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
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
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
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    await runner.drain();
    expect(told).toHaveLength(1);
    expect(told[0][0]).toBe(1);
    expect(told[0][1]).toBeGreaterThan(clock.now());
    clock.advance(told[0][1] - clock.now());
    await runner.drain();
    expect(told.map(([attempts]) => attempts)).toEqual([1, 2]);
  });

  it("tells the handler only when a failed task is scheduled for a retry, not when it is given up", async () => {
    const retrying: number[] = [];
    let calls = 0;
    const { outbox, runner, clock } = setUp({
      run: async () => {
        calls += 1;
        throw httpError(calls === 1 ? 503 : 404);
      },
      retrying: (task) => void retrying.push(task.attempts),
    });
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    await runner.drain();
    clock.advance(3_600_000 - 1);
    await runner.drain();
    expect(calls).toBe(2);
    expect(retrying).toEqual([0]);
  });

  it("gives up at once on a client error and records it", async () => {
    const givenUp: [Task<"dispatch">, string][] = [];
    const { outbox, runner, clock, store } = setUp({
      run: async () => {
        throw httpError(422);
      },
      giveUp: async (task, failure) => void givenUp.push([task, failure.summary]),
    });
    await outbox.enqueue({ id: "bad", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    await runner.drain();
    expect(givenUp.map(([t, s]) => [t.id, s])).toEqual([["bad", "HTTP 422"]]);
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard(keys.outbox.dead)).toBe(1);
  });

  it("gives up on retryable failures once the task is older than the horizon", async () => {
    const givenUp: string[] = [];
    const { outbox, runner, clock } = setUp(
      { run: async () => Promise.reject(httpError(503)), giveUp: async (t) => void givenUp.push(t.id) },
      { giveUpAfterMs: 30_000 },
    );
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
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
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
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
    await outbox.enqueue({ id: "orphan", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    const claimed = await outbox.claim(clock.now(), 60_000, 10); // a runner claims it and dies
    expect(claimed.map((lease) => lease.task.id)).toEqual(["orphan"]);
    const survivor = new OutboxRunner({
      outbox: new Outbox(store),
      handlers: handlersFor({ dispatch: { run: async () => undefined } }),
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

  it("keeps a running task's lease renewed past its length, so nobody else runs it meanwhile", async () => {
    const store = new MemoryStore();
    const outbox = new Outbox(store);
    let runs = 0;
    let finish: () => void = () => undefined;
    const options = { outbox, log, metrics: createMetrics(), concurrency: 2, leaseMs: 150, giveUpAfterMs: 3_600_000 };
    const holder = new OutboxRunner({
      ...options,
      handlers: handlersFor({
        dispatch: { run: () => new Promise<void>((resolve) => ((runs += 1), (finish = resolve))) },
      }),
    });
    const other = new OutboxRunner({
      ...options,
      handlers: handlersFor({ dispatch: { run: async () => void (runs += 1) } }),
    });
    await outbox.enqueue({ id: "long", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    const holding = holder.drain();
    await until(() => runs === 1);
    // Several leases' worth of drains by another process: the heartbeat keeps the task the holder's.
    for (let i = 0; i < 8; i++) {
      expect(await other.drain()).toBe(0);
      await sleep(100);
    }
    finish();
    expect(await holding).toBe(1);
    expect(runs).toBe(1);
    expect(await outbox.depth()).toBe(0);
  });

  it("a holder that lost its lease does not take it back nor record the task's outcome", async () => {
    const { outbox, clock } = setUp({ run: async () => undefined });
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    const [mine] = await outbox.claim(clock.now(), 15_000, 1);
    clock.advance(15_000); // the holder stalled past its lease: another process claims the task
    const [theirs] = await outbox.claim(clock.now(), 15_000, 1);
    expect(theirs.task.id).toBe("t");
    expect(await outbox.renew(mine, clock.now() + 15_000)).toBeNull();
    expect(await outbox.release(mine, clock.now())).toBe(false);
    expect(await outbox.claim(clock.now(), 15_000, 1)).toEqual([]); // still theirs
    expect(await outbox.renew(theirs, clock.now() + 30_000)).toEqual({ ...theirs, heldUntil: clock.now() + 30_000 });
  });

  it("aborts a task whose lease another process took over, and leaves the task to it", async () => {
    const store = new MemoryStore();
    const outbox = new Outbox(store);
    let aborted = false;
    let started = false;
    const runner = new OutboxRunner({
      outbox,
      log,
      metrics: createMetrics(),
      concurrency: 2,
      leaseMs: 150,
      giveUpAfterMs: 3_600_000,
      handlers: handlersFor({
        dispatch: {
          run: (_task, context) =>
            new Promise<void>((_resolve, reject) => {
              started = true;
              context?.signal.addEventListener("abort", () => ((aborted = true), reject(new Error("aborted"))));
            }),
        },
      }),
    });
    await outbox.enqueue({ id: "contested", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    const draining = runner.drain();
    await until(() => started);
    // Another process's claim, as after a stall longer than the lease: a score that is not ours.
    const theirs = Date.now() + 60_000;
    await store.write([{ op: "zadd", key: keys.outbox.lane("default"), member: "contested", score: theirs }]);
    expect(await draining).toBe(1);
    expect(aborted).toBe(true);
    expect(await store.zscore(keys.outbox.lane("default"), "contested")).toBe(theirs);
    expect(await new Outbox(store).peek("contested")).toMatchObject({ attempts: 0, lastError: null });
  });

  it("stop() aborts a task stuck on a hung call after the grace, hands its lease back at once and logs no retry", async () => {
    const warnings: string[] = [];
    const recording = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    const store = new MemoryStore();
    const outbox = new Outbox(store);
    let seenSignal: AbortSignal | undefined;
    const runner = new OutboxRunner({
      outbox,
      log: recording,
      metrics: createMetrics(),
      concurrency: 2,
      leaseMs: 15_000,
      giveUpAfterMs: 3_600_000,
      handlers: handlersFor({
        dispatch: {
          // A GitHub call that never answers, but rejects when its signal aborts (as fetch does).
          run: (_task, context) =>
            new Promise<void>((_resolve, reject) => {
              seenSignal = context?.signal;
              context?.signal.addEventListener("abort", () => reject(new Error("aborted")));
            }),
        },
      }),
    });
    await outbox.enqueue({ id: "hung", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    runner.kick();
    await until(() => seenSignal !== undefined);
    await runner.stop(50);
    expect(seenSignal?.aborted).toBe(true);
    expect(warnings).toEqual([]);
    // Due again now, for another process: not after the lease, not after a backoff.
    const [lease] = await outbox.claim(Date.now(), 15_000, 1);
    expect(lease.task).toMatchObject({ id: "hung", attempts: 0 });
    // Stopped, it claims nothing more in the background.
    await outbox.enqueue({ id: "after-stop", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    runner.kick();
    await sleep(20);
    expect(await outbox.claim(Date.now(), 15_000, 5)).toEqual([
      expect.objectContaining({ task: expect.objectContaining({ id: "after-stop" }) }),
    ]);
  });

  it("stop() leaves behind a task that ignores its signal, with its lease handed back", async () => {
    const store = new MemoryStore();
    const outbox = new Outbox(store);
    let started = false;
    const runner = new OutboxRunner({
      outbox,
      log,
      metrics: createMetrics(),
      concurrency: 2,
      leaseMs: 15_000,
      giveUpAfterMs: 3_600_000,
      // A retry sleep that no signal reaches.
      handlers: handlersFor({ dispatch: { run: () => new Promise<void>(() => void (started = true)) } }),
    });
    await outbox.enqueue({ id: "deaf", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    runner.kick();
    await until(() => started);
    await runner.stop(50);
    expect((await outbox.claim(Date.now(), 15_000, 1)).map((lease) => lease.task.id)).toEqual(["deaf"]);
  });

  it("aborts a task past its time limit and retries it later", async () => {
    const store = new MemoryStore();
    const outbox = new Outbox(store);
    let calls = 0;
    const runner = new OutboxRunner({
      outbox,
      log,
      metrics: createMetrics(),
      concurrency: 2,
      leaseMs: 15_000,
      taskTimeLimitMs: 50,
      giveUpAfterMs: 3_600_000,
      handlers: handlersFor({
        dispatch: {
          run: (_task, context) =>
            new Promise<void>((_resolve, reject) => {
              calls += 1;
              context?.signal.addEventListener("abort", () => reject(new Error("aborted")));
            }),
        },
      }),
    });
    await outbox.enqueue({ id: "stuck", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    expect(await runner.drain()).toBe(1);
    expect(calls).toBe(1);
    const task = await outbox.peek("stuck");
    expect(task).toMatchObject({ attempts: 1, lastError: expect.stringContaining("still running after") });
    expect(await outbox.depth()).toBe(1);
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
    for (let i = 0; i < 20; i++)
      await outbox.enqueue({ id: `t${i}`, kind: "dispatch", data: { requestId: "r" } }, clock.now());
    expect(await runner.drain()).toBe(20);
    expect(peak).toBe(3);
  });

  it("drain() runs a task deferred for its write slot even when the slot comes before drain looks at its deferrals again", async () => {
    let runs = 0;
    const { outbox, runner, clock } = setUp({
      run: async () => {
        runs += 1;
        if (runs === 1) throw Object.assign(new Error("write slot taken"), { deferMs: 5 });
      },
    });
    // A loaded process: by the time drain gets back from a claim that found nothing due, the slot
    // the task was deferred to has come, though that claim was made before it.
    const claim = outbox.claim.bind(outbox);
    outbox.claim = async (at, leaseMs, limit) => {
      const leases = await claim(at, leaseMs, limit);
      if (leases.length === 0) clock.advance(10);
      return leases;
    };
    await outbox.enqueue({ id: "paced", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    await runner.drain();
    expect(runs).toBe(2);
    expect(await outbox.depth()).toBe(0);
  });

  it("lets every task of a batch finish before a store failure ends the drain", async () => {
    const finished: string[] = [];
    const { outbox, runner, clock } = setUp({
      run: async (t) => {
        await new Promise((resolve) => setTimeout(resolve, t.id === "slow" ? 30 : 0));
        finished.push(t.id);
      },
    });
    await outbox.enqueue({ id: "fast", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    await outbox.enqueue({ id: "slow", kind: "dispatch", data: { requestId: "r" } }, clock.now());
    // The store fails for "fast" after its work is done: neither completing nor rescheduling it works.
    const [complete, retryAt] = [outbox.complete.bind(outbox), outbox.retryAt.bind(outbox)];
    outbox.complete = async (lease, at) =>
      lease.task.id === "fast" ? Promise.reject(new Error("store down")) : complete(lease, at);
    outbox.retryAt = async (task, dueAt, error) =>
      task.id === "fast" ? Promise.reject(new Error("store down")) : retryAt(task, dueAt, error);
    await expect(runner.drain()).rejects.toThrow("store down");
    expect(finished.sort()).toEqual(["fast", "slow"]);
  });

  it("leaves a task of an unknown kind for an instance that knows it, and buries it once it is too old", async () => {
    const { outbox, runner, clock, store } = setUp({ run: async () => undefined });
    await enqueueForeign(outbox, { id: "alien", kind: "from-the-future", data: {} }, clock.now());
    await runner.drain();
    expect(await outbox.depth()).toBe(1);
    expect(await store.zcard(keys.outbox.dead)).toBe(0);
    clock.advance(3_600_000);
    await runner.drain();
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard(keys.outbox.dead)).toBe(1);
  });

  it("never hands a handler data that is not of its kind: the task waits like an unknown kind, then is buried with the reason", async () => {
    const ran: unknown[] = [];
    const { outbox, runner, clock, store } = setUp({ run: async (t) => void ran.push(t.data) });
    await enqueueForeign(outbox, { id: "corrupt", kind: "dispatch", data: { requestId: 42 } }, clock.now());
    await runner.drain();
    expect(ran).toEqual([]);
    expect(await outbox.depth()).toBe(1);
    expect((await outbox.peek("corrupt"))?.lastError).toMatch(/^data not of kind dispatch: .*requestId/);
    clock.advance(3_600_000);
    await runner.drain();
    expect(ran).toEqual([]);
    expect(await outbox.depth()).toBe(0);
    expect(await store.zcard(keys.outbox.dead)).toBe(1);
  });
});
