import type { Cluster, Redis } from "ioredis";

/** Where outage lines go (a pino/Probot logger fits). */
export interface OutageLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface RedisOutages {
  /** true between a lost (or failed) connection and the next ready one */
  down(): boolean;
}

/**
 * One warning per outage rather than one per reconnect attempt (ioredis retries every few hundred
 * ms), and one line when it is over; a blip that reconnects at once logs nothing. Listening to
 * "error" is also what keeps ioredis from printing "[ioredis] Unhandled error event" with a stack
 * for every attempt. Connection errors name host and port, never credentials. `consequence` says
 * what the outage means to this process.
 */
export function reportRedisOutages(
  client: Redis | Cluster,
  log: OutageLog | undefined,
  consequence: string,
): RedisOutages {
  let down = false;
  let reported = false;
  client.on("close", () => {
    down = true;
  });
  client.on("error", (error: Error) => {
    down = true;
    if (reported) return;
    reported = true;
    log?.warn({ error: error.message }, `Redis unreachable; ${consequence}`);
  });
  client.on("ready", () => {
    down = false;
    if (!reported) return;
    reported = false;
    log?.info({}, "Redis reachable again");
  });
  return { down: () => down };
}
