import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";

/**
 * A redis-server of the suite's own on a free loopback port, for faults the shared Redis must never
 * see: outages, restarts (with the append-only file, so data survives; or without, so it is gone) and
 * FLUSHALL. Killed with the test process.
 */

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: a crash) and resolves once it has exited; `up` brings it back. */
  down(): Promise<void>;
  /** Starts it again on the same port: with the data it had (persistence), or empty. */
  up(options: { persistence: boolean }): Promise<void>;
  /** `down`, then `up` after `downMs`. */
  restart(options: { persistence: boolean; downMs?: number }): Promise<void>;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function untilAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      if ((await redis.ping()) === "PONG") return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`own redis-server not answering on ${url}: ${String(error)}`, { cause: error });
    } finally {
      redis.disconnect();
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function startOwnRedis(options: { persistence: boolean }): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let dir = mkdtempSync(join(tmpdir(), "ci-relay-own-redis-"));
  let child: ChildProcess | null = null;
  const dirs = [dir];

  const launch = async (persistence: boolean) => {
    // appendfsync always: a SIGKILL loses nothing that was acknowledged, the strictest "with persistence".
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      persistence ? "yes" : "no",
      "--appendfsync",
      "always",
    ];
    const started = spawn("redis-server", args, { stdio: "ignore" });
    child = started;
    process.once("exit", () => started.kill("SIGKILL"));
    await untilAnswers(url, 30_000);
  };
  const kill = async () => {
    const running = child;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((done) => {
      running.once("exit", () => done());
      running.kill("SIGKILL");
    });
  };

  const up = async ({ persistence }: { persistence: boolean }) => {
    if (!persistence) {
      // A fresh directory: nothing of the old data comes back.
      dir = mkdtempSync(join(tmpdir(), "ci-relay-own-redis-"));
      dirs.push(dir);
    }
    await launch(persistence);
  };

  await launch(options.persistence);
  return {
    port,
    url,
    down: kill,
    up,
    async restart({ persistence, downMs = 2_000 }) {
      await kill();
      await new Promise((done) => setTimeout(done, downMs));
      await up({ persistence });
    },
    async flushAll() {
      const redis = new Redis(url, { lazyConnect: true });
      await redis.connect();
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
    },
    async stop() {
      await kill();
      for (const path of dirs) rmSync(path, { recursive: true, force: true });
    },
  };
}
