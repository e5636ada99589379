import { hostname } from "node:os";
import Redis, { type RedisOptions } from "ioredis";
import pino from "pino";
import { z } from "zod";
import { redisUrlVariable } from "../config/env";
import { reportRedisOutages } from "../store/report-redis-outages";
import { DeadLetterQueue } from "../worker/dead-letter-queue";
import { JobConsumer } from "../worker/job-consumer";
import type { CliCommand } from "./cli-command";
import type { CliIo } from "./cli-io";
import { EXIT, UsageError } from "./cli-io";
import { parseCommandArgs, type OptionTable, type ParsedArgs } from "./option-table";

const GROUP = {
  group: { type: "string", arg: "name", help: "consumer group (default relay-workers:<runs-on>, else relay-workers)" },
} as const;

const WORKER_OPTIONS = {
  exec: { type: "string", arg: "command", help: "the job command; its exit code is the result (required)" },
  ...GROUP,
  consumer: { type: "string", arg: "name", help: "this worker's name in the group (default <host>-<pid>)" },
  "runs-on": { type: "string", arg: "label", help: "take only job requests for this runs_on label" },
  "idle-ms": {
    type: "string",
    arg: "ms",
    help: "a pending entry idle this long is claimed by another worker",
    default: "60000",
  },
  "details-url": {
    type: "string",
    arg: "template",
    help: "check-run link while the job runs; {request_id} and {job_id} are filled in",
  },
} as const satisfies OptionTable;

const DLQ_OPTIONS = {
  ...GROUP,
  count: { type: "string", arg: "N", help: "dead letters listed at most", default: "100" },
} as const satisfies OptionTable;

const QUEUE_ENV = {
  REDIS_URL: "the relay's Redis (required)",
  REDIS_PREFIX: "the relay's REDIS_PREFIX (default empty)",
} as const;

/**
 * A worker waits out a Redis outage instead of failing: commands wait for the connection (no retry
 * limit), which is tried again from 0.2 s, backing off to every 5 s. The `dlq` commands answer an
 * operator, so they fail after one more attempt instead of hanging.
 */
const WORKER_REDIS: RedisOptions = {
  maxRetriesPerRequest: null,
  retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
};
const DLQ_REDIS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 500),
};
/** After SIGTERM the loop has this long to hand back its job; then the connection is cut, which ends any wait on Redis. */
const STOP_GRACE_MS = 5_000;

const envSchema = z.object({ REDIS_URL: redisUrlVariable, REDIS_PREFIX: z.string().default("") });
const positive = (flag: string, value: string) => {
  const parsed = z.coerce.number().int().positive().safeParse(value);
  if (!parsed.success) throw new UsageError(flag, "must be a positive integer");
  return parsed.data;
};

/**
 * `ci-relay worker` and `ci-relay dlq list|requeue` (SPEC §3 queue transport): the consumer side,
 * talking to Redis directly. Returns the exit code; `worker` runs until SIGTERM or SIGINT.
 */
async function runWorkerCommand(argv: string[], io: CliIo): Promise<number> {
  const command = argv[0] === "dlq" ? "dlq" : "worker";
  let parsed: ParsedArgs<typeof WORKER_OPTIONS & typeof DLQ_OPTIONS>;
  let env: z.infer<typeof envSchema>;
  let numbers: { idleMs: number; count: number };
  try {
    parsed = parseCommandArgs(command, argv, command === "dlq" ? DLQ_OPTIONS : WORKER_OPTIONS) as typeof parsed;
    const read = envSchema.safeParse(io.env);
    if (!read.success)
      throw new UsageError("REDIS_URL", io.env.REDIS_URL ? read.error.issues[0].message : `required for ${command}`);
    env = read.data;
    // Each command's parser fills in its own defaults; the other command's option is never read.
    numbers = {
      idleMs:
        command === "worker" ? positive("--idle-ms", parsed.values["idle-ms"] ?? WORKER_OPTIONS["idle-ms"].default) : 0,
      count: command === "dlq" ? positive("--count", parsed.values.count ?? DLQ_OPTIONS.count.default) : 0,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.error(`ci-relay: ${error.message}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [, sub, ...rest] = positionals;
  const log = pino({ name: "ci-relay-worker" });
  const redis = new Redis(env.REDIS_URL, command === "dlq" ? DLQ_REDIS : WORKER_REDIS);
  // dlq prints JSON lines for the operator: a failure is its error message, not a log line among them.
  const outages = reportRedisOutages(redis, command === "dlq" ? undefined : log, "the worker waits for it and goes on");
  try {
    // Without --group, each label has its own group: every label's workers see every entry.
    const group = values.group ?? (values["runs-on"] ? `relay-workers:${values["runs-on"]}` : "relay-workers");
    if (command === "dlq") {
      const dlq = new DeadLetterQueue({ redis, prefix: env.REDIS_PREFIX, group });
      if (sub === "list" && rest.length === 0) {
        for (const { id, fields } of await dlq.list(numbers.count)) {
          // The callback token is a credential: never printed.
          const { callback_token: _secret, ...shown } = fields;
          io.print(JSON.stringify({ id, ...shown }));
        }
        return 0;
      }
      if (sub === "requeue" && rest.length === 1) {
        io.print(JSON.stringify({ ok: true, requeued: rest[0], id: await dlq.requeue(rest[0]) }));
        return 0;
      }
      io.error(`ci-relay: ${sub === undefined ? "<list|requeue>" : sub}: dlq takes list, or requeue <id>`);
      return EXIT.usage;
    }
    if (values.exec === undefined || sub !== undefined) {
      io.error(
        values.exec === undefined
          ? "ci-relay: --exec: required for worker"
          : `ci-relay: ${sub}: worker takes no positional arguments`,
      );
      return EXIT.usage;
    }
    const consumer = new JobConsumer({
      redis,
      prefix: env.REDIS_PREFIX,
      group,
      consumer: values.consumer ?? `${hostname()}-${process.pid}`,
      runsOn: values["runs-on"],
      idleMs: numbers.idleMs,
      command: values.exec,
      detailsUrl: values["details-url"],
      fetch: io.fetch,
      log,
      redisUp: () => !outages.down(),
    });
    const stop = (signal: string) => {
      log.info(`${signal}: stopping`);
      consumer.stop();
      setTimeout(() => redis.disconnect(), STOP_GRACE_MS).unref();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    await consumer.run();
    log.info("stopped");
    return 0;
  } finally {
    redis.disconnect();
  }
}

export const workerCommand: CliCommand = {
  name: "worker",
  summary: "take job requests from the relay's Redis queue and run --exec for each (transport: queue)",
  synopsis: "--exec ./run-job.sh",
  options: WORKER_OPTIONS,
  environment: QUEUE_ENV,
  output: "JSON log lines; runs until SIGTERM or SIGINT",
  run: (argv, io) => runWorkerCommand(["worker", ...argv], io),
};

export const dlqCommand: CliCommand = {
  name: "dlq",
  summary: "list the queue's dead letters, or requeue one",
  synopsis: "list | requeue <id>",
  options: DLQ_OPTIONS,
  environment: QUEUE_ENV,
  output: "list: one JSON line per dead letter, oldest first; requeue: one JSON line",
  run: (argv, io) => runWorkerCommand(["dlq", ...argv], io),
};
