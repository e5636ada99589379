import { expect, jest } from "@jest/globals";
import pino from "pino";
import type { JobTransition } from "../../../src/jobs/job-transition";
import { HUD_TASK, hudTask, hudTaskOps } from "../../../src/hud/hud-task";
import type { PostJson } from "../../../src/hud/post-json";
import { classifyFailure } from "../../../src/outbox/classify-failure";
import { Outbox, type Task } from "../../../src/outbox/outbox";
import { MemoryStore } from "../../../src/store/memory-store";
import { dispatchRecord } from "../../support/dispatch-fixtures";

const transition: JobTransition = {
  dispatch: dispatchRecord(),
  scope: "job",
  jobName: "build",
  runId: "77",
  runAttempt: "1",
  from: "DISPATCHED",
  to: "IN_PROGRESS",
  conclusion: null,
  detailsUrl: null,
  workflowName: null,
  summary: null,
  queueTimeSeconds: 3,
  executionTimeSeconds: null,
  at: 0,
};
const settings = { hudUrl: "http://hud.test/records", hudToken: "hud-secret" };
const outbox = new Outbox(new MemoryStore());
const log = pino({ level: "silent" });

const task = (data: Task<typeof HUD_TASK>["data"]): Task<typeof HUD_TASK> => ({
  id: "t",
  kind: HUD_TASK,
  data,
  createdAt: 0,
  attempts: 0,
  lastError: null,
});

describe("HUD forwarding", () => {
  test("one task per transition, with an id naming the job and the state reached", () => {
    const [first] = hudTaskOps(outbox, settings, transition, null, 0);
    const [again] = hudTaskOps(outbox, settings, transition, null, 5);
    const [completed] = hudTaskOps(outbox, settings, { ...transition, to: "COMPLETED" }, null, 0);
    expect(first.key).toBe(again.key);
    expect(first.key).not.toBe(completed.key);
  });

  test("nothing is enqueued without HUD_URL or for L1", () => {
    expect(hudTaskOps(outbox, {}, transition, null, 0)).toEqual([]);
    expect(hudTaskOps(outbox, settings, { ...transition, dispatch: dispatchRecord({ level: "L1" }) }, null, 0)).toEqual(
      [],
    );
  });

  test("posts the stored record with the bot header", async () => {
    const post = jest.fn<PostJson>(async () => ({ status: 201, headers: {} }));
    await hudTask(settings, log, post).run(task({ record: { trusted: {} } }));
    expect(post).toHaveBeenCalledWith(
      "http://hud.test/records",
      '{"trusted":{}}',
      expect.objectContaining({ "x-hud-internal-bot": "hud-secret" }),
      expect.any(AbortSignal),
    );
  });

  test("a HUD 503 with Retry-After fails the run in a way the outbox retries later", async () => {
    const post = jest.fn<PostJson>(async () => ({ status: 503, headers: { "retry-after": "7" } }));
    const failure = await hudTask(settings, log, post)
      .run(task({ record: {} }))
      .catch((e: unknown) => e);
    expect(classifyFailure(failure, 0)).toEqual({ retryable: true, retryAfterMs: 7000, summary: "HTTP 503" });
  });

  test("a HUD 400 fails the run for good", async () => {
    const post = jest.fn<PostJson>(async () => ({ status: 400, headers: {} }));
    const failure = await hudTask(settings, log, post)
      .run(task({ record: {} }))
      .catch((e: unknown) => e);
    expect(classifyFailure(failure, 0)).toMatchObject({ retryable: false, summary: "HTTP 400" });
  });
});
