import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import Redis from "ioredis";

/**
 * A `redis-server` of the test's own on a free loopback port, without persistence, so a test may
 * restart or flush it (never the Redis the other suites share). `stop()` kills it.
 */
export interface OwnRedis {
  readonly url: string;
  /** kills the server and starts a fresh, empty one on the same port */
  restart(): Promise<void>;
  /** FLUSHALL: every key gone while the server keeps running */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`redis-server at ${url} did not answer within a minute`);
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitUntilAnswering(`redis://127.0.0.1:${port}`);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  await exited;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = await launch(port);
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  return {
    url,
    async restart() {
      await kill(child);
      child = await launch(port);
    },
    async flush() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    async stop() {
      process.off("exit", orphan);
      await kill(child);
    },
  };
}
