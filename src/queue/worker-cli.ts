import { hostname } from "node:os";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import pino from "pino";
import { z } from "zod";
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
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    const [command, sub, ...rest] = positionals;
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
      log: pino({ name: "ci-relay-worker" }),
    });
    process.once("SIGTERM", () => consumer.stop());
    process.once("SIGINT", () => consumer.stop());
    await consumer.run();
    return 0;
  } finally {
    redis.disconnect();
  }
}
