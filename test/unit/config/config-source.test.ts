import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "@jest/globals";
import type { GithubFile } from "../../../src/config/config-location";
import {
  ConfigSource,
  type ConfigLogger,
  type ConfigSourceOptions,
  type PushSummary,
} from "../../../src/config/config-source";
import { RelayConfigError } from "../../../src/config/parse-relay-config";
import { readCachedConfig } from "../../../src/records/config-cache";
import { MemoryStore } from "../../../src/store/memory-store";

const configText = (downstream: string, ttl = 300) =>
  `version: 1\nupstreams: [pytorch/pytorch]\ncache_ttl_seconds: ${ttl}\ndownstreams:\n  - {repo: ${downstream}, level: L2}\n`;
const INVALID = "version: 1\nupstreams: [pytorch/pytorch]\ndownstreams:\n  - {repo: a/b, level: L9}\n";

interface LogLine {
  level: "info" | "warn" | "error";
  details: object;
  message: string;
}

function recordingLogger(lines: LogLine[]): ConfigLogger {
  return {
    info: (details, message) => lines.push({ level: "info", details, message }),
    warn: (details, message) => lines.push({ level: "warn", details, message }),
    error: (details, message) => lines.push({ level: "error", details, message }),
  };
}

/** A GitHub whose answers the test sets; every read is recorded. */
function fakeGithub(answer: () => string) {
  const reads: GithubFile[] = [];
  const readFile = async (file: GithubFile) => {
    reads.push(file);
    return answer();
  };
  return { reads, readFile };
}

/** Background retries wait here until the test runs them. */
function manualScheduler() {
  const pending: { run: () => void; delayMs: number; cancelled: boolean }[] = [];
  return {
    pending,
    schedule: (run: () => void, delayMs: number) => {
      const task = { run, delayMs, cancelled: false };
      pending.push(task);
      return { cancel: () => (task.cancelled = true) };
    },
    /** Runs the last scheduled retry and waits for its read to settle. */
    async runNext() {
      const task = pending[pending.length - 1];
      task.run();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe("ConfigSource", () => {
  let clock: number;
  let store: MemoryStore;
  let logs: LogLine[];
  const now = () => clock;

  beforeEach(() => {
    clock = 1_700_000_000_000;
    store = new MemoryStore({ now });
    logs = [];
  });

  function source(overrides: Partial<ConfigSourceOptions>): ConfigSource {
    return new ConfigSource({
      env: {},
      readFile: async () => {
        throw new Error("no GitHub in this test");
      },
      store,
      logger: recordingLogger(logs),
      now,
      ...overrides,
    });
  }

  describe("local file", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "relay-config-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("./relay.yml in the working directory is the default", async () => {
      writeFileSync(join(dir, "relay.yml"), configText("vendor/backend"));
      const configSource = source({ cwd: dir });
      await configSource.start();
      expect(configSource.current()?.downstreams.map((d) => d.repo)).toEqual(["vendor/backend"]);
      expect(configSource.describe()).toEqual({
        kind: "local",
        location: "./relay.yml",
        via: "default",
        loaded: true,
        form: "native",
      });
    });

    test("a missing local file stops the start with one line naming RELAY_CONFIG", async () => {
      const start = source({ cwd: dir, env: { relayConfig: "conf/relay.yml" } }).start();
      await expect(start).rejects.toThrow(RelayConfigError);
      await expect(start).rejects.toThrow(/^RELAY_CONFIG: conf\/relay\.yml: cannot read the file \(ENOENT\)$/);
    });

    test("an invalid local file stops the start with the position of the problem", async () => {
      writeFileSync(join(dir, "relay.yml"), INVALID);
      await expect(source({ cwd: dir }).start()).rejects.toThrow(/^\.\/relay\.yml:4:17: downstreams\[0\]\.level: /);
    });

    test("after the TTL the file is read again; a broken edit keeps the last good config", async () => {
      const path = join(dir, "relay.yml");
      writeFileSync(path, configText("vendor/first", 60));
      const configSource = source({ cwd: dir });
      await configSource.start();

      writeFileSync(path, configText("vendor/second", 60));
      clock += 59_000;
      expect((await configSource.get())?.downstreams[0].repo).toBe("vendor/first");
      clock += 1_000;
      expect((await configSource.get())?.downstreams[0].repo).toBe("vendor/second");

      writeFileSync(path, INVALID);
      clock += 60_000;
      expect((await configSource.get())?.downstreams[0].repo).toBe("vendor/second");
      expect(logs.filter((line) => line.level === "error")).toEqual([
        {
          level: "error",
          details: {
            source: "./relay.yml",
            err: expect.stringMatching(/^\.\/relay\.yml:4:17: downstreams\[0\]\.level: /),
          },
          message: "relay config re-read failed; keeping the last good config",
        },
      ]);
    });
  });

  describe("GitHub file", () => {
    const env = { relayConfig: "github:pytorch/pytorch/.github/relay.yml@main" };
    const cacheKeyHash = createHash("sha256").update(env.relayConfig).digest("hex").slice(0, 16);

    test("reads through readFile and shares the text in the store for the TTL", async () => {
      const github = fakeGithub(() => configText("vendor/backend", 120));
      const first = source({ env, readFile: github.readFile });
      await first.start();
      expect(github.reads).toEqual([{ owner: "pytorch", repo: "pytorch", path: ".github/relay.yml", ref: "main" }]);

      const second = source({ env, readFile: github.readFile });
      await second.start();
      expect(second.current()?.downstreams[0].repo).toBe("vendor/backend");
      expect(github.reads).toHaveLength(1);

      clock += 120_000;
      const third = source({ env, readFile: github.readFile });
      await third.start();
      expect(github.reads).toHaveLength(2);
    });

    test("until GitHub answers, current() is null and the read is retried with growing delays", async () => {
      let answer: () => string = () => {
        throw new Error("installation not found");
      };
      const scheduler = manualScheduler();
      const configSource = source({ env, readFile: fakeGithub(() => answer()).readFile, schedule: scheduler.schedule });

      await configSource.start();
      expect(configSource.current()).toBeNull();
      expect(configSource.describe()).toMatchObject({ kind: "github", loaded: false, form: null });

      await scheduler.runNext();
      await scheduler.runNext();
      expect(configSource.current()).toBeNull();

      answer = () => configText("vendor/backend");
      await scheduler.runNext();
      expect(configSource.current()?.downstreams[0].repo).toBe("vendor/backend");
      expect(scheduler.pending.map((task) => task.delayMs)).toEqual([1_000, 2_000, 4_000]);
      expect(logs.filter((line) => line.level === "error").map((line) => line.message)).toEqual([
        "relay config could not be loaded; retrying",
        "relay config could not be loaded; retrying",
        "relay config could not be loaded; retrying",
      ]);
    });

    test("retry delays stop growing at 15 s, so a source that is back is noticed soon", async () => {
      const scheduler = manualScheduler();
      const configSource = source({ env, schedule: scheduler.schedule });
      await configSource.start();
      for (let i = 0; i < 8; i++) await scheduler.runNext();
      expect(scheduler.pending.map((task) => task.delayMs)).toEqual([
        1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 15_000, 15_000,
      ]);
    });

    test("currentAndRefreshIfDue answers at once and leaves a due read to the background", async () => {
      let answer: (text: string) => void = () => undefined;
      let failing = true;
      const readFile = async () => {
        if (failing) throw new Error("GitHub answered 502");
        return new Promise<string>((resolve) => (answer = resolve));
      };
      const configSource = source({ env, readFile, schedule: manualScheduler().schedule });
      await configSource.start();
      expect(configSource.currentAndRefreshIfDue()).toBeNull();

      failing = false;
      clock += 1_000; // the failed read's retry is due: this call starts it, and does not wait for it
      expect(configSource.currentAndRefreshIfDue()).toBeNull();
      await new Promise((resolve) => setImmediate(resolve)); // the read reaches GitHub
      answer(configText("vendor/backend"));
      await new Promise((resolve) => setImmediate(resolve));
      expect(configSource.currentAndRefreshIfDue()?.downstreams[0].repo).toBe("vendor/backend");
    });

    test("an invalid file is retried like an unreadable one, and close() stops the retries", async () => {
      const scheduler = manualScheduler();
      const configSource = source({ env, readFile: fakeGithub(() => INVALID).readFile, schedule: scheduler.schedule });
      await configSource.start();
      expect(configSource.current()).toBeNull();
      expect(logs[0].details).toEqual({
        source: "github:pytorch/pytorch/.github/relay.yml@main",
        err: expect.stringMatching(
          /^github:pytorch\/pytorch\/\.github\/relay\.yml@main:4:17: downstreams\[0\]\.level: /,
        ),
      });
      configSource.close();
      expect(scheduler.pending.every((task) => task.cancelled)).toBe(true);
    });

    test("an invalid text is never put in the shared cache", async () => {
      const github = fakeGithub(() => INVALID);
      await source({ env, readFile: github.readFile, schedule: manualScheduler().schedule }).start();
      await source({ env, readFile: github.readFile, schedule: manualScheduler().schedule }).start();
      expect(github.reads).toHaveLength(2);
    });

    test("after the TTL a failed re-read keeps the last good config", async () => {
      let answer = () => configText("vendor/first", 60);
      const configSource = source({ env, readFile: fakeGithub(() => answer()).readFile });
      await configSource.start();

      answer = () => {
        throw new Error("GitHub 502");
      };
      clock += 60_000;
      expect((await configSource.get())?.downstreams[0].repo).toBe("vendor/first");
      expect(logs.at(-1)).toEqual({
        level: "error",
        details: { source: "github:pytorch/pytorch/.github/relay.yml@main", err: "GitHub 502" },
        message: "relay config re-read failed; keeping the last good config",
      });

      answer = () => configText("vendor/second", 60);
      clock += 1_000;
      expect((await configSource.get())?.downstreams[0].repo).toBe("vendor/second");
    });

    test("concurrent gets after the TTL share one read", async () => {
      const github = fakeGithub(() => configText("vendor/backend", 60));
      const configSource = source({ env, readFile: github.readFile });
      await configSource.start();
      clock += 60_000;
      await Promise.all([configSource.get(), configSource.get(), configSource.get()]);
      expect(github.reads).toHaveLength(2);
    });

    test("a slow TTL read finishing after a push refresh does not undo it", async () => {
      let releaseSlowRead: (text: string) => void = () => undefined;
      const answers = [
        async () => configText("vendor/first", 60),
        () => new Promise<string>((resolve) => (releaseSlowRead = resolve)),
        async () => configText("vendor/pushed", 60),
      ];
      const configSource = source({ env, readFile: () => answers.shift()!() });
      await configSource.start();

      clock += 60_000;
      const slowGet = configSource.get();
      await new Promise((resolve) => setImmediate(resolve));
      await configSource.refresh();
      releaseSlowRead(configText("vendor/stale", 60));

      expect((await slowGet)?.downstreams[0].repo).toBe("vendor/pushed");
      expect(await readCachedConfig(store, cacheKeyHash)).toBe(configText("vendor/pushed", 60));
    });

    test("a TTL read asked for while a push refresh is in flight shares it instead of reading the older cache", async () => {
      let releasePush: (text: string) => void = () => undefined;
      const answers = [
        async () => configText("vendor/first", 60),
        () => new Promise<string>((resolve) => (releasePush = resolve)),
      ];
      let reads = 0;
      const configSource = source({ env, readFile: () => (reads++, answers.shift()!()) });
      await configSource.start();

      clock += 60_000;
      const refreshing = configSource.refresh();
      const ttlRead = configSource.get();
      await new Promise((resolve) => setImmediate(resolve));
      releasePush(configText("vendor/pushed", 60));

      expect((await ttlRead)?.downstreams[0].repo).toBe("vendor/pushed");
      expect((await refreshing)?.downstreams[0].repo).toBe("vendor/pushed");
      expect(reads).toBe(2);
    });

    test("a push touching the file refreshes at once, past the shared cache", async () => {
      let answer = () => configText("vendor/first");
      const github = fakeGithub(() => answer());
      const configSource = source({ env, readFile: github.readFile });
      await configSource.start();

      answer = () => configText("vendor/second");
      const push: PushSummary = {
        ref: "refs/heads/main",
        repository: { full_name: "PyTorch/PyTorch", default_branch: "main" },
        commits: [{ added: [], modified: ["README.md"] }, { modified: [".github/relay.yml"] }],
      };
      expect(configSource.isConfigPush(push)).toBe(true);
      expect((await configSource.refresh())?.downstreams[0].repo).toBe("vendor/second");

      // the refreshed text is what other processes now find in the cache
      const other = source({ env, readFile: github.readFile });
      await other.start();
      expect(other.current()?.downstreams[0].repo).toBe("vendor/second");
      expect(github.reads).toHaveLength(2);
    });

    test.each<[string, Partial<PushSummary>]>([
      ["another branch", { ref: "refs/heads/dev" }],
      ["another repository", { repository: { full_name: "pytorch/vision", default_branch: "main" } }],
      ["other files", { commits: [{ modified: [".github/relay.yaml", "relay.yml"] }] }],
      ["the path in another case", { commits: [{ modified: [".github/Relay.yml"] }] }],
    ])("a push to %s is not a config push", (_, overrides) => {
      const push: PushSummary = {
        ref: "refs/heads/main",
        repository: { full_name: "pytorch/pytorch", default_branch: "main" },
        commits: [{ removed: [".github/relay.yml"] }],
        ...overrides,
      };
      expect(source({ env }).isConfigPush(push)).toBe(false);
    });

    test("without @REF the config lives on the default branch", () => {
      const configSource = source({ env: { relayConfig: "github:pytorch/pytorch/relay.yml" } });
      const push = (ref: string): PushSummary => ({
        ref,
        repository: { full_name: "pytorch/pytorch", default_branch: "trunk" },
        commits: [{ modified: ["relay.yml"] }],
      });
      expect(configSource.isConfigPush(push("refs/heads/trunk"))).toBe(true);
      expect(configSource.isConfigPush(push("refs/heads/main"))).toBe(false);
    });

    test("a local config never matches a push", () => {
      const push: PushSummary = {
        ref: "refs/heads/main",
        repository: { full_name: "pytorch/pytorch" },
        commits: [{ modified: ["relay.yml"] }],
      };
      expect(source({ cwd: tmpdir() }).isConfigPush(push)).toBe(false);
    });
  });

  describe("ALLOWLIST_URL", () => {
    test("a CRCR allowlist blob URL is read through GitHub with UPSTREAM_REPO as the upstream", async () => {
      const github = fakeGithub(() => "L2:\n  - vendor/backend\n");
      const configSource = source({
        env: {
          allowlistUrl: "https://github.com/pytorch/pytorch/blob/main/.github/allowlist.yml",
          upstreamRepo: "pytorch/pytorch",
        },
        readFile: github.readFile,
      });
      await configSource.start();
      expect(github.reads).toEqual([{ owner: "pytorch", repo: "pytorch", path: ".github/allowlist.yml", ref: "main" }]);
      expect(configSource.current()).toMatchObject({ form: "crcr", upstreams: ["pytorch/pytorch"] });
      expect(configSource.describe()).toEqual({
        kind: "github",
        location: "github:pytorch/pytorch/.github/allowlist.yml@main",
        via: "ALLOWLIST_URL",
        loaded: true,
        form: "crcr",
      });
    });

    test("RELAY_CONFIG takes precedence over ALLOWLIST_URL", () => {
      const configSource = source({
        env: { relayConfig: "github:o/r/relay.yml", allowlistUrl: "https://github.com/o/r/blob/main/allowlist.yml" },
      });
      expect(configSource.describe()).toMatchObject({
        kind: "github",
        location: "github:o/r/relay.yml",
        via: "RELAY_CONFIG",
      });
    });
  });
});
