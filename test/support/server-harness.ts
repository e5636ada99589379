import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { testAppCredentials } from "./app-key";
import type { FakeGitHub } from "./fake-github";
import { testRedisUrl, uniqueRedisPrefix } from "./redis-prefix";
import { TEST_WEBHOOK_SECRET } from "./webhooks";

export { cleanupRedisPrefix, uniqueRedisPrefix } from "./redis-prefix";

/**
 * Runs the built relay (`node lib/main.js`, what `npm start` runs) as a child process wired to a fake
 * GitHub and the test Redis, and captures everything it prints so tests can assert on logs — and
 * that no secret ever appears in them.
 */

const REPO_ROOT = resolve(__dirname, "../..");
const MAIN = join(REPO_ROOT, "lib", "main.js");
const STOP_GRACE_MS = 5_000;
/** How much of the captured output an error message carries. */
const OUTPUT_TAIL = 20_000;

export interface RelayServerOptions {
  fakeGitHub: FakeGitHub;
  /** the script to run; default lib/main.js (the harness's own tests use a stand-in) */
  entry?: string;
  /** written to a temp file that RELAY_CONFIG names; required unless `env.RELAY_CONFIG` is given */
  configYaml?: string;
  /** added to (and overriding) the harness's env; `undefined` removes a variable */
  env?: Record<string, string | undefined>;
  /** default: a fresh `uniqueRedisPrefix()`; pass the previous server's to restart on the same state */
  redisPrefix?: string;
  /** default: the test App's key (the fake GitHub trusts it) */
  privateKeyPem?: string;
  /** default: a free port */
  port?: number;
  /** default: debug, so secret-leak assertions cover the chattiest logs */
  logLevel?: string;
  /** default: 15 s */
  readyTimeoutMs?: number;
  /**
   * What start-up waits for: `ready` (default), health answering 200; `serving`, health answering at
   * all (200 or its 503), for a relay that starts without a loaded config on purpose.
   */
  waitFor?: "ready" | "serving";
  /** arguments for node before the script (the benchmark's `--cpu-prof`) */
  nodeArgs?: string[];
  /** the working directory (where the relay looks for `.env` and `./relay.yml`); default: the repository */
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LogRecord = Record<string, unknown>;

export interface RelayServer {
  readonly port: number;
  /** the relay process's id (the benchmark reads its CPU time and RSS from /proc) */
  readonly pid: number;
  /** http://127.0.0.1:<port>; also the RELAY_PUBLIC_URL unless the test set one */
  readonly baseUrl: string;
  readonly redisPrefix: string;
  readonly webhookSecret: string;
  readonly env: Readonly<Record<string, string>>;
  readonly exited: Promise<ExitInfo>;
  url(path: string): string;
  /** everything the process wrote to stdout and stderr so far */
  logs(): string;
  /** the JSON log lines so far (LOG_FORMAT=json); other lines are skipped */
  logRecords(): LogRecord[];
  waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** SIGTERM, then SIGKILL if still running after 5 s */
  stop(): Promise<ExitInfo>;
  /** SIGKILL: a crash */
  kill(): Promise<ExitInfo>;
  /** SIGTERM alone, no SIGKILL after: resolves when the process has exited on its own */
  terminate(): Promise<ExitInfo>;
}

const running = new Set<ChildProcess>();
let reaperInstalled = false;

/** A test that fails before its `stop()` must not leave a relay running after the test process. */
function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (!reaperInstalled) {
    reaperInstalled = true;
    process.once("exit", () => {
      for (const orphan of running) orphan.kill("SIGKILL");
    });
  }
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const tail = (text: string): string => (text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text);

function harnessEnv(
  options: RelayServerOptions,
  port: number,
  redisPrefix: string,
  configPath: string | null,
): Record<string, string> {
  const base: Record<string, string | undefined> = {
    // Only what node needs from the test's environment: a developer's own APP_ID or REDIS_URL must
    // not leak into the relay under test.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    APP_ID: String(options.fakeGitHub.appId),
    PRIVATE_KEY: options.privateKeyPem ?? testAppCredentials().privateKeyPem,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    GHE_HOST: options.fakeGitHub.host,
    GHE_PROTOCOL: "http",
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: redisPrefix,
    RELAY_CONFIG: configPath ?? undefined,
    RELAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_FORMAT: "json",
    LOG_LEVEL: options.logLevel ?? "debug",
    // Off unless a test turns it on (test/e2e/missed-deliveries.test.ts): its once-a-minute
    // GET /app/hook/deliveries would land among the requests other tests count.
    REDELIVER_MISSED: "false",
    ...options.env,
  };
  return Object.fromEntries(Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

async function waitUntilHealthy(
  baseUrl: string,
  exited: Promise<ExitInfo>,
  timeoutMs: number,
  output: () => string,
  waitFor: "ready" | "serving",
): Promise<void> {
  // Widened by the cast: the promise below sets it, which TypeScript's narrowing cannot see.
  let exit = null as ExitInfo | null;
  void exited.then((info) => {
    exit = info;
  });
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    if (exit) {
      const { code, signal } = exit;
      throw new Error(`relay exited (code ${code}, signal ${signal}) before it was ready; output:\n${tail(output())}`);
    }
    try {
      const response = await fetch(`${baseUrl}/relay/health`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200 || (waitFor === "serving" && response.status === 503)) return;
      lastProblem = `GET /relay/health answered ${response.status}: ${(await response.text()).slice(0, 500)}`;
    } catch (error) {
      lastProblem = String(error);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`relay not ready within ${timeoutMs} ms (${lastProblem}); output:\n${tail(output())}`);
}

/**
 * Starts the relay and resolves once `GET /relay/health` answers 200. Rejects with the process's
 * output when it exits first (a config error, say) or is not ready within `readyTimeoutMs`.
 */
export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const entry = options.entry ?? MAIN;
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` before the e2e tests`);
  if (options.configYaml === undefined && options.env?.RELAY_CONFIG === undefined && options.cwd === undefined) {
    throw new Error(
      "startRelayServer needs configYaml, env.RELAY_CONFIG or a cwd (else the relay would read the repository's ./relay.yml)",
    );
  }
  const port = options.port ?? (await freePort());
  const redisPrefix = options.redisPrefix ?? uniqueRedisPrefix();
  const dir = options.configYaml === undefined ? null : mkdtempSync(join(tmpdir(), "ci-relay-e2e-"));
  const configPath = dir === null ? null : join(dir, "relay.yml");
  if (configPath !== null) writeFileSync(configPath, options.configYaml ?? "");
  const env = harnessEnv(options, port, redisPrefix, configPath);

  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  reapOnExit(child);

  let output = "";
  let partialLine = "";
  const records: LogRecord[] = [];
  const logWaiters = new Set<(record: LogRecord) => void>();
  const capture = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output += text;
    const lines = (partialLine + text).split("\n");
    partialLine = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const record: unknown = JSON.parse(line);
        if (record !== null && typeof record === "object" && !Array.isArray(record)) {
          records.push(record as LogRecord);
          for (const waiter of logWaiters) waiter(record as LogRecord);
        }
      } catch {
        // not a log record (a stack trace, a stray print): kept in logs() only
      }
    }
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);

  const exited = new Promise<ExitInfo>((done) => {
    // "close", not "exit": only then has everything the process printed been read.
    child.once("close", (code, signal) => {
      if (dir !== null) rmSync(dir, { recursive: true, force: true });
      done({ code, signal });
    });
  });

  const signalAndWait = async (signal: NodeJS.Signals): Promise<ExitInfo> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const server: RelayServer = {
    port,
    pid: child.pid ?? -1,
    baseUrl,
    redisPrefix,
    webhookSecret: env.WEBHOOK_SECRET,
    env,
    exited,
    url: (path) => new URL(path, baseUrl).toString(),
    logs: () => output,
    logRecords: () => [...records],
    waitForLog: (predicate, timeoutMs = 30_000) => {
      const seen = records.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((done, fail) => {
        const waiter = (record: LogRecord) => {
          if (!predicate(record)) return;
          clearTimeout(timer);
          logWaiters.delete(waiter);
          done(record);
        };
        const timer = setTimeout(() => {
          logWaiters.delete(waiter);
          fail(new Error(`no matching log record within ${timeoutMs} ms; output:\n${tail(output)}`));
        }, timeoutMs);
        logWaiters.add(waiter);
      });
    },
    stop: async () => {
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      try {
        return await signalAndWait("SIGTERM");
      } finally {
        clearTimeout(killer);
      }
    },
    kill: () => signalAndWait("SIGKILL"),
    terminate: () => signalAndWait("SIGTERM"),
  };

  try {
    await waitUntilHealthy(baseUrl, exited, options.readyTimeoutMs ?? 15_000, () => output, options.waitFor ?? "ready");
  } catch (error) {
    await server.kill();
    throw error;
  }
  return server;
}
