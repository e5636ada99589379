import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import Redis from "ioredis";

/**
 * A redis-server of the test's own on a free loopback port, to stop and start again: the shared
 * test Redis must never be restarted or flushed. No persistence: a restart loses everything, as a
 * Redis without AOF or RDB does.
 */
export interface OwnRedisServer {
  readonly url: string;
  /** stops it (SIGTERM) and resolves once it has exited */
  stop(): Promise<void>;
  /** starts it again on the same port, empty */
  start(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function startOwnRedisServer(): Promise<OwnRedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const own: OwnRedisServer = {
    url,
    async start() {
      child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!(await answersPing(url))) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((done) => setTimeout(done, 50));
      }
    },
    async stop() {
      const running = child;
      child = null;
      if (running === null || running.exitCode !== null) return;
      const exited = new Promise((done) => running.once("exit", done));
      running.kill("SIGTERM");
      await exited;
    },
  };
  await own.start();
  return own;
}
