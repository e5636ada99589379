import type Redis from "ioredis";
import { keys } from "../records/keys";
import { prefixedKey } from "../store/prefixed-key";
import { streamFields } from "../store/stream-fields";

/** Fields a dead letter carries besides the job request's own; a requeue strips them again. */
const DEAD_FIELDS = ["dead_reason", "dead_entry_id", "dead_deliveries", "dead_at"] as const;

export interface DeadLetter {
  id: string;
  fields: Record<string, string>;
}

export interface DeadLetterQueueOptions {
  redis: Redis;
  /** REDIS_PREFIX */
  prefix: string;
  group: string;
}

/**
 * `relay:jobs:dlq`: job requests given up on, kept with why, for an operator to read and requeue.
 * Moving is one MULTI (append to the dead letters, acknowledge in the group) so an entry is never in
 * neither place, nor run again after it moved.
 */
export class DeadLetterQueue {
  private readonly jobs: string;
  private readonly dead: string;

  constructor(private readonly options: DeadLetterQueueOptions) {
    this.jobs = prefixedKey(options.prefix, keys.jobRequests.stream);
    this.dead = prefixedKey(options.prefix, keys.jobRequests.deadLetters);
  }

  async move(entry: DeadLetter, reason: string, deliveries: number, now = new Date()): Promise<void> {
    const dead = {
      ...withoutDeadFields(entry.fields),
      dead_reason: reason,
      dead_entry_id: entry.id,
      dead_deliveries: String(deliveries),
      dead_at: now.toISOString(),
    };
    await this.options.redis
      .multi()
      .xadd(this.dead, "*", ...Object.entries(dead).flat())
      .xack(this.jobs, this.options.group, entry.id)
      .exec()
      .then(failedStep);
  }

  /** Oldest first. */
  async list(count: number): Promise<DeadLetter[]> {
    const entries = await this.options.redis.xrange(this.dead, "-", "+", "COUNT", count);
    return entries.map(([id, flat]) => ({ id, fields: streamFields(flat) }));
  }

  /** Appends the job request again as a new entry (delivered afresh) and removes the dead letter; the new id. */
  async requeue(id: string): Promise<string> {
    const [entry] = await this.options.redis.xrange(this.dead, id, id);
    if (entry === undefined) throw new Error(`no dead letter ${id}`);
    const fields = withoutDeadFields(streamFields(entry[1]));
    const replies = await this.options.redis
      .multi()
      .xadd(this.jobs, "*", ...Object.entries(fields).flat())
      .xdel(this.dead, id)
      .exec()
      .then(failedStep);
    return String(replies[0][1]);
  }
}

function withoutDeadFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter(([name]) => !(DEAD_FIELDS as readonly string[]).includes(name)),
  );
}

/** EXEC answers per command; a failed one inside a transaction must not pass silently. */
function failedStep(replies: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (replies === null) throw new Error("transaction aborted");
  const failure = replies.find(([error]) => error !== null);
  if (failure) throw failure[0] as Error;
  return replies;
}
