/**
 * worker/ owns the consumer side of the queue transport, the `ci-relay worker` process: reading job
 * requests from the stream in a consumer group, running the job command with its environment, posting
 * its reports to the relay's callback, and the dead letters. It talks to Redis directly, not through
 * the relay's store; it shares only the job-request contract (src/queue/job-request.ts) with the relay.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Redis from "ioredis";
import type { Logger } from "pino";
import { CONFIG_DEFAULTS } from "../config/native-config";
import { jobRequestSchema, type JobRequest } from "../queue/job-request";
import { streamFields } from "../store/stream-fields";
import { DeadLetterQueue, type DeadLetter } from "./dead-letter-queue";
import { decideEntry } from "./decide-entry";
import { exitConclusion } from "./exit-conclusion";
import { jobEnvironment } from "./job-environment";
import { keys } from "../records/keys";
import { prefixedKey } from "../store/prefixed-key";
import { postJobReport, type ReportOutcome, type WorkerReport } from "./post-job-report";
import { readJobResult, type JobResult } from "./read-job-result";
import { runJobCommand } from "./run-job-command";

export interface JobConsumerOptions {
  redis: Redis;
  /** REDIS_PREFIX, as the relay uses it */
  prefix: string;
  group: string;
  consumer: string;
  /** serve only job requests with this `runs_on`; others are acknowledged unrun in this group */
  runsOn?: string;
  /** an entry pending this long with no sign of life is taken over by another worker */
  idleMs: number;
  /** the job command: a path, run with the job request in its environment */
  command: string;
  /** check-run link while the job runs: `{request_id}`, `{job_id}`, `{entry_id}` are filled in */
  detailsUrl?: string;
  fetch: typeof fetch;
  log: Logger;
  /** the environment job commands inherit; default process.env */
  env?: NodeJS.ProcessEnv;
  /** waits between callback attempts */
  retryDelaysMs?: number[];
  /** false while Redis is known to be down (see reportRedisOutages): the outage line says it all then */
  redisUp?: () => boolean;
}

/** Waits after a failed round of the loop: from 0.5 s, doubling, at most 10 s. */
const LOOP_RETRY_MS = { first: 500, max: 10_000 };

/** Redis answers this when the stream or the group is gone (a restart without persistence, a flush). */
const isNoGroup = (error: unknown) => error instanceof Error && error.message.startsWith("NOGROUP");

/**
 * A worker of the queue transport (SPEC §3): reads job requests from `relay:jobs` in a consumer group,
 * runs the job command, reports `in_progress` before and `completed` after to the relay's callback,
 * and acknowledges an entry only once its result was accepted. An entry whose worker died (no
 * heartbeat for `idleMs`) is reclaimed by another with XAUTOCLAIM; one delivered more than
 * `max_deliveries` times, or refused by the relay for good, moves to `relay:jobs:dlq`. One job at a
 * time: run more workers for more.
 *
 * It rides out Redis outages: the loop never ends on an error, it waits (with backoff) and goes on,
 * recreating the group if Redis lost it. `stop()` ends the job in hand too: its command is
 * terminated, nothing is reported, and the entry is handed back (marked idle) for another worker.
 */
export class JobConsumer {
  private readonly stream: string;
  private readonly deadLetters: DeadLetterQueue;
  private readonly stopping = new AbortController();
  private wakeUp: (() => void) | null = null;

  constructor(private readonly options: JobConsumerOptions) {
    this.stream = prefixedKey(options.prefix, keys.jobRequests.stream);
    this.deadLetters = new DeadLetterQueue({ redis: options.redis, prefix: options.prefix, group: options.group });
  }

  /** Until `stop()`: handles entries as they come, whatever Redis does meanwhile. */
  async run(): Promise<void> {
    let groupReady = false;
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      try {
        if (!groupReady) await this.ensureGroup();
        groupReady = true;
        await this.step();
        failures = 0;
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        if (isNoGroup(error)) {
          groupReady = false;
          this.options.log.warn(
            {},
            "the job stream or its consumer group is gone (Redis lost its data?); creating them again",
          );
        } else if (failures === 0 && (this.options.redisUp?.() ?? true)) {
          this.options.log.warn(
            { error: error instanceof Error ? error.message : String(error) },
            "worker loop failed; retrying",
          );
        }
        await this.pause(Math.min(LOOP_RETRY_MS.max, LOOP_RETRY_MS.first * 2 ** failures));
        failures += 1;
      }
    }
  }

  /** Ends `run()` soon: a job in hand is terminated and its entry handed back, unreported. */
  stop(): void {
    this.stopping.abort();
    this.wakeUp?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** A new group starts at the stream's beginning: requests enqueued before any worker ran are not lost. */
  async ensureGroup(): Promise<void> {
    try {
      await this.options.redis.xgroup("CREATE", this.stream, this.options.group, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error;
    }
  }

  /** One entry, reclaimed first, else new (waiting up to `blockMs`); false when there was none. */
  async step(blockMs = 2000): Promise<boolean> {
    const entry = (await this.reclaim()) ?? (await this.readNew(blockMs));
    if (entry === null) return false;
    await this.handle(entry);
    return true;
  }

  private async reclaim(): Promise<DeadLetter | null> {
    const { redis, group, consumer, idleMs } = this.options;
    const [, claimed] = (await redis.xautoclaim(this.stream, group, consumer, idleMs, "0-0", "COUNT", 1)) as [
      string,
      [string, string[] | null][],
    ];
    const [entry] = claimed;
    return entry === undefined || entry[1] === null ? null : { id: entry[0], fields: streamFields(entry[1]) };
  }

  private async readNew(blockMs: number): Promise<DeadLetter | null> {
    const { redis, group, consumer } = this.options;
    const reply = (await redis.xreadgroup(
      "GROUP",
      group,
      consumer,
      "COUNT",
      1,
      "BLOCK",
      blockMs,
      "STREAMS",
      this.stream,
      ">",
    )) as [string, [string, string[]][]][] | null;
    const entry = reply?.[0]?.[1][0];
    return entry === undefined ? null : { id: entry[0], fields: streamFields(entry[1]) };
  }

  private async handle(entry: DeadLetter): Promise<void> {
    const { redis, prefix, group, log } = this.options;
    const deliveries = await this.deliveryCount(entry.id);
    const configured = Number(
      await redis.get(prefixedKey(prefix, keys.jobRequests.maxDeliveries(entry.fields.downstream ?? ""))),
    );
    const parsed = jobRequestSchema.safeParse(entry.fields);
    const decision = decideEntry({
      request: parsed.success ? parsed.data : null,
      deliveries,
      // SPEC §3: the default `max_deliveries` until the relay has said the downstream's own.
      maxDeliveries: configured > 0 ? configured : CONFIG_DEFAULTS.maxDeliveries,
      runsOn: this.options.runsOn,
    });
    switch (decision.action) {
      case "skip":
        await redis.xack(this.stream, group, entry.id);
        return;
      case "dead-letter":
        await this.deadLetters.move(entry, decision.reason, deliveries);
        log.warn(
          {
            entryId: entry.id,
            requestId: entry.fields.request_id,
            jobId: entry.fields.job_id,
            deliveries,
            reason: decision.reason,
          },
          "job request moved to the dead-letter stream",
        );
        return;
      case "run":
        await this.runJob(entry, decision.request, deliveries);
    }
  }

  private async deliveryCount(id: string): Promise<number> {
    const pending = (await this.options.redis.xpending(this.stream, this.options.group, id, id, 1)) as [
      string,
      string,
      number,
      number,
    ][];
    return pending[0]?.[3] ?? 1;
  }

  private async runJob(entry: DeadLetter, request: JobRequest, attempt: number): Promise<void> {
    const { log } = this.options;
    const context = { entryId: entry.id, requestId: request.request_id, jobId: request.job_id, attempt };
    const base = { runId: entry.id.replace("-", ""), runAttempt: attempt, url: this.detailsUrl(entry.id, request) };
    const { signal } = this.stopping;
    const report = (status: WorkerReport["status"], conclusion: string | null, result?: JobResult) =>
      postJobReport(
        request,
        { ...base, status, conclusion, result, at: new Date().toISOString() },
        { fetch: this.options.fetch, retryDelaysMs: this.options.retryDelaysMs, signal },
      );

    if (!(await this.settled(entry, await report("in_progress", null), attempt))) return;
    log.info(context, "job started");
    const dir = await mkdtemp(join(tmpdir(), "ci-relay-job-"));
    try {
      const resultFile = join(dir, "result.json");
      const exit = await this.withHeartbeat(entry.id, () =>
        runJobCommand(
          this.options.command,
          jobEnvironment(this.options.env ?? process.env, request, { ...context, resultFile }),
          signal,
        ),
      );
      if (signal.aborted) {
        await this.handBack(entry.id);
        log.info(context, "worker stopping: job terminated and handed back for another worker");
        return;
      }
      const conclusion = exitConclusion(exit);
      if (conclusion === null) {
        // Left pending: after `idleMs` it is delivered again, until `max_deliveries` sends it to the dead letters.
        log.warn({ ...context, signal: exit.signal }, "job command crashed; the job will be delivered again");
        return;
      }
      const result = await readJobResult(resultFile).catch((error: unknown) => {
        log.warn({ ...context, err: error }, "job result file ignored: not valid");
        return null;
      });
      if (
        await this.settled(
          entry,
          await report("completed", result?.conclusion ?? conclusion, result ?? undefined),
          attempt,
        )
      ) {
        await this.options.redis.xack(this.stream, this.options.group, entry.id);
        log.info({ ...context, conclusion: result?.conclusion ?? conclusion }, "job reported and acknowledged");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Marks the entry idle for long enough that the next XAUTOCLAIM of any worker takes it at once,
   * rather than after `idleMs`. It stays pending: nothing is lost if this fails.
   */
  private async handBack(id: string): Promise<void> {
    const { redis, group, consumer } = this.options;
    await redis.xclaim(this.stream, group, consumer, 0, id, "IDLE", Date.now(), "JUSTID").catch(() => undefined);
  }

  /** True when the relay took the report; a refusal for good dead-letters the entry, anything else leaves it pending. */
  private async settled(entry: DeadLetter, outcome: ReportOutcome, deliveries: number): Promise<boolean> {
    if (outcome.outcome === "accepted") return true;
    if (this.stopping.signal.aborted) {
      // Cut short by stop(): left pending, handed back, and reported by whoever runs it next.
      await this.handBack(entry.id);
      return false;
    }
    if (outcome.outcome === "rejected") {
      await this.deadLetters.move(entry, `callback-rejected:${outcome.failureKind}`, deliveries);
      this.options.log.warn(
        { entryId: entry.id, failureKind: outcome.failureKind },
        "relay refused the job's report; moved to the dead-letter stream",
      );
      return false;
    }
    this.options.log.warn(
      { entryId: entry.id, detail: outcome.detail },
      "relay unreachable; the job stays pending and will be delivered again",
    );
    return false;
  }

  /**
   * A running job claims its entry again every third of `idleMs` (JUSTID: without counting a
   * delivery), so a long job is not taken over while its worker is alive.
   */
  private async withHeartbeat<T>(id: string, work: () => Promise<T>): Promise<T> {
    const { redis, group, consumer, idleMs, log } = this.options;
    const timer = setInterval(
      () => {
        redis.xclaim(this.stream, group, consumer, 0, id, "JUSTID").catch((error: unknown) => {
          // During an outage the outage line has said it; a failed beat every few seconds adds nothing.
          if (this.options.redisUp?.() ?? true)
            log.warn(
              { error: error instanceof Error ? error.message : String(error), entryId: id },
              "heartbeat failed",
            );
        });
      },
      Math.max(100, Math.floor(idleMs / 3)),
    );
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private detailsUrl(entryId: string, request: JobRequest): string | null {
    const template = this.options.detailsUrl;
    if (template === undefined) return null;
    const values: Record<string, string> = {
      request_id: request.request_id,
      job_id: request.job_id,
      entry_id: entryId,
    };
    return template.replace(/\{(request_id|job_id|entry_id)\}/g, (_, name: string) => encodeURIComponent(values[name]));
  }
}
