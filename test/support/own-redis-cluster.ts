import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Redis from "ioredis";
import { freePort } from "./own-redis";

/**
 * A 3-master Redis Cluster of the test's own: redis-server processes in cluster mode on free loopback
 * ports, joined by `redis-cli --cluster create`, no persistence, stopped and removed by `stop()`.
 * The relay's store and e2e flow run on it as they would on ElastiCache Serverless.
 */
export interface OwnRedisCluster {
  /** REDIS_URL of one node: with REDIS_CLUSTER=true the client finds the others */
  readonly url: string;
  readonly ports: readonly number[];
  /** CLUSTER KEYSLOT, the cluster's own answer */
  keySlot(key: string): Promise<number>;
  stop(): Promise<void>;
}

const MASTERS = 3;
const START_TIMEOUT_MS = 60_000;
const run = promisify(execFile);

/** Asks one node something, on a connection of its own that never retries: false when it cannot answer. */
async function askNode(port: number, ask: (client: Redis) => Promise<boolean>): Promise<boolean> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await ask(client);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const clusterOk = (port: number) =>
  askNode(port, async (client) => ((await client.cluster("INFO")) as string).includes("cluster_state:ok"));

const answersPing = (port: number) => askNode(port, async (client) => (await client.ping()) === "PONG");

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function startOwnRedisCluster(): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "ci-relay-cluster-"));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < MASTERS; i++) {
      const port = await freePort();
      ports.push(port);
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
      ];
      children.push(
        spawn("redis-server", [...args, "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" }),
      );
    }
    for (const port of ports) await until(`node ${port} did not start`, () => answersPing(port));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of ports) await until(`node ${port} did not see the cluster as ok`, () => clusterOk(port));
  } catch (error) {
    await stop();
    throw error;
  }
  const admin = new Redis({ port: ports[0], host: "127.0.0.1" });
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    keySlot: async (key) => Number(await admin.cluster("KEYSLOT", key)),
    async stop() {
      admin.disconnect();
      await stop();
    },
  };
}
