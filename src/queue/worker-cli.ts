import { hostname } from "node:os";
import { parseArgs } from "node:util";
import Redis, { type RedisOptions } from "ioredis";
import pino from "pino";
import { z } from "zod";
import { reportRedisOutages } from "../store/report-redis-outages";
import { DeadLetterQueue } from "./dead-letter-queue";
import { JobConsumer } from "./job-consumer";

export interface WorkerIo {
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  print(line: string): void;
}

export const WORKER_COMMANDS = ["worker", "dlq"] as const;

const USAGE = `usage:
  ci-relay worker --exec ./run-job.sh [--group relay-workers] [--consumer name] [--runs-on label] [--idle-ms 60000]
                  [--details-url 'https://ci.example/jobs/{request_id}/{job_id}']
  ci-relay dlq list [--group relay-workers] [--count 100]
  ci-relay dlq requeue <id>
environment: REDIS_URL (required), REDIS_PREFIX`;

const OPTIONS = {
  exec: { type: "string" },
  group: { type: "string" },
  consumer: { type: "string" },
  "runs-on": { type: "string" },
  "idle-ms": { type: "string", default: "60000" },
  "details-url": { type: "string" },
  count: { type: "string", default: "100" },
} as const;

/**
 * A worker waits out a Redis outage instead of failing: commands wait for the connection (no retry
 * limit), which is tried again from 0.2 s, backing off to every 5 s. The `dlq` commands answer an
 * operator, so they fail after one more attempt instead of hanging.
 */
const WORKER_REDIS: RedisOptions = { maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(attempt * 200, 5_000) };
const DLQ_REDIS: RedisOptions = { maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: (attempt) => Math.min(attempt * 100, 500) };
/** After SIGTERM the loop has this long to hand back its job; then the connection is cut, which ends any wait on Redis. */
const STOP_GRACE_MS = 5_000;

const envSchema = z.object({ REDIS_URL: z.string().min(1, { error: "REDIS_URL is required" }), REDIS_PREFIX: z.string().default("") });
const positive = (flag: string) => z.coerce.number().int({ error: `${flag} must be a positive integer` }).positive({ error: `${flag} must be a positive integer` });

/**
 * `ci-relay worker` and `ci-relay dlq list|requeue` (SPEC §3 queue transport): the consumer side,
 * talking to Redis directly. Returns the exit code; `worker` runs until SIGTERM or SIGINT.
 */
export async function runWorkerCommand(argv: string[], io: WorkerIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  let env: z.infer<typeof envSchema>;
  let numbers: { idleMs: number; count: number };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    env = envSchema.parse(io.env);
    numbers = { idleMs: positive("--idle-ms").parse(parsed.values["idle-ms"]), count: positive("--count").parse(parsed.values.count) };
  } catch (error) {
    // parseArgs throws TypeError for unknown or malformed flags.
    if (!(error instanceof z.ZodError || error instanceof TypeError)) throw error;
    io.print(`ci-relay: ${error instanceof z.ZodError ? error.issues[0].message : error.message}`);
    io.print(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
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
      io.print(USAGE);
      return 2;
    }
    if (values.exec === undefined || sub !== undefined) {
      io.print("ci-relay: worker needs --exec and no positional arguments");
      io.print(USAGE);
      return 2;
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
