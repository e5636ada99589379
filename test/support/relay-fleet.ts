import type { FakeGitHub } from "./fake-github";
import { startRelayServer, uniqueRedisPrefix, type RelayServer } from "./server-harness";

/**
 * Several relay processes on one Redis prefix (as several servers or Lambda containers run), that a
 * suite can kill -9 and restart one at a time. A process that exits on its own (not killed by the
 * suite) is counted and restarted, so a crash shows in the figures instead of stopping the run.
 */

export interface FleetOptions {
  size: number;
  fakeGitHub: FakeGitHub;
  configYaml: string;
  env: Record<string, string>;
  logLevel?: string;
}

export interface RelayFleet {
  readonly redisPrefix: string;
  /** the processes now (a restarted one replaces the one it restarts) */
  readonly relays: readonly (RelayServer | null)[];
  /** a running process, round robin; waits while all are down */
  pick(): Promise<RelayServer>;
  /** SIGKILL process `index` and start it again on the same port; resolves once it is healthy */
  killAndRestart(index: number): Promise<void>;
  /** exits nobody asked for, with how each ended and a tail of what it printed */
  readonly unexpectedExits: string[];
  stop(): Promise<void>;
}

export async function startRelayFleet(options: FleetOptions): Promise<RelayFleet> {
  const redisPrefix = uniqueRedisPrefix();
  const relays: (RelayServer | null)[] = Array.from({ length: options.size }, () => null);
  const unexpectedExits: string[] = [];
  const expectedExit = new Set<RelayServer>();
  let stopping = false;
  let turn = 0;

  const start = async (index: number, port?: number): Promise<void> => {
    const relay = await startRelayServer({
      fakeGitHub: options.fakeGitHub,
      configYaml: options.configYaml,
      redisPrefix,
      port,
      logLevel: options.logLevel ?? "warn",
      env: options.env,
      readyTimeoutMs: 60_000,
    });
    relays[index] = relay;
    void relay.exited.then(async (exit) => {
      if (expectedExit.has(relay) || stopping) return;
      relays[index] = null;
      unexpectedExits.push(
        `relay ${index} exited (code ${exit.code}, signal ${exit.signal}): ${relay.logs().slice(-600)}`,
      );
      await start(index, relay.port).catch((error: unknown) =>
        unexpectedExits.push(`relay ${index} did not restart: ${String(error).slice(0, 300)}`),
      );
    });
  };

  await Promise.all(relays.map((_, index) => start(index)));
  return {
    redisPrefix,
    relays,
    unexpectedExits,
    async pick() {
      for (let waited = 0; waited < 120_000; waited += 100) {
        for (let i = 0; i < relays.length; i++) {
          const relay = relays[turn++ % relays.length];
          if (relay) return relay;
        }
        await new Promise((done) => setTimeout(done, 100));
      }
      throw new Error("no relay process running for two minutes");
    },
    async killAndRestart(index) {
      const relay = relays[index];
      if (!relay) return;
      expectedExit.add(relay);
      relays[index] = null;
      await relay.kill();
      await start(index, relay.port);
    },
    async stop() {
      stopping = true;
      await Promise.all(relays.map((relay) => relay?.stop()));
    },
  };
}
