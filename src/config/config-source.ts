import { createHash } from "node:crypto";
import { readFile as readLocalFile } from "node:fs/promises";
import { cacheConfig, readCachedConfig } from "../records/config-cache";
import type { Store } from "../store/store";
import { resolveConfigLocation, type ConfigLocation, type GithubFile } from "./config-location";
import type { RelayEnv } from "./env";
import { parseRelayConfig, RelayConfigError } from "./parse-relay-config";
import { sameRepo, type RelayConfig } from "./types";

export interface ConfigLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Reads one file through the GitHub Contents API; the app wires it to an installation Octokit. */
export type ReadGithubFile = (file: GithubFile) => Promise<string>;

/** The few fields of a `push` webhook that say whether it touched the config. */
export interface PushSummary {
  ref: string;
  repository: { full_name: string; default_branch?: string };
  commits?: { added?: string[]; modified?: string[]; removed?: string[] }[];
}

export interface ConfigSourceDescription {
  kind: ConfigLocation["kind"];
  location: string;
  via: ConfigLocation["via"];
  loaded: boolean;
  form: RelayConfig["form"] | null;
}

export interface ConfigSourceOptions {
  env: Pick<RelayEnv, "relayConfig" | "allowlistUrl" | "upstreamRepo">;
  readFile: ReadGithubFile;
  store: Pick<Store, "get" | "write">;
  logger: ConfigLogger;
  /** default: the process's working directory */
  cwd?: string;
  now?: () => number;
  /** runs a background retry later; default: an unref'd timer */
  schedule?: (run: () => void, delayMs: number) => { cancel(): void };
}

const FIRST_RETRY_MS = 1_000;
/** Webhooks answer 503 until the config loads: a source that is back is noticed within this long. */
const RETRY_CAP_MS = 15_000;

function scheduleWithTimer(run: () => void, delayMs: number): { cancel(): void } {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}

function withoutLeadingSlash(path: string): string {
  return path.replace(/^\.?\/+/, "");
}

/**
 * Where the relay config comes from (SPEC §1, §2) and the last good copy of it. A local file must be good
 * at start; a GitHub file is retried in the background until it is, and `current()` is null meanwhile.
 * After `cache_ttl_seconds` the next `get()` reads again; a read that fails or does not validate never
 * replaces the last good config. GitHub reads go through the Store so many processes share one fetch.
 */
export class ConfigSource {
  private readonly location: ConfigLocation;
  /** names this source in the shared config cache */
  private readonly sourceHash: string;
  private readonly now: () => number;
  private readonly schedule: NonNullable<ConfigSourceOptions["schedule"]>;
  private config: RelayConfig | null = null;
  private text: string | null = null;
  private nextReadAt = 0;
  private failures = 0;
  private started = 0;
  private applied = 0;
  private inFlight: Promise<boolean> | null = null;
  private retry: { cancel(): void } | null = null;
  private closed = false;

  constructor(private readonly options: ConfigSourceOptions) {
    this.location = resolveConfigLocation(options.env, options.cwd ?? process.cwd());
    this.sourceHash = createHash("sha256").update(this.location.display).digest("hex").slice(0, 16);
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? scheduleWithTimer;
  }

  /** First load. Throws for a local file that is missing or invalid; a GitHub file keeps being retried. */
  async start(): Promise<void> {
    if (this.location.kind === "local") {
      this.apply(await this.readLocal(this.location.path), ++this.started);
      return;
    }
    if (!(await this.load(false))) this.retryInBackground();
  }

  /** The last good config, or null while none has loaded (webhooks then answer 503). */
  current(): RelayConfig | null {
    return this.config;
  }

  /**
   * The last good config at once (null while none has loaded), for answers that must not wait on
   * GitHub (webhooks): a read that is due (TTL passed, or a failed read's retry) starts in the
   * background and serves the next caller.
   */
  currentAndRefreshIfDue(): RelayConfig | null {
    if (this.now() >= this.nextReadAt) void this.loadOnce();
    return this.config;
  }

  /** The current config, read again first when it is older than its TTL or a failed read is due a retry. */
  async get(): Promise<RelayConfig | null> {
    if (this.now() >= this.nextReadAt) await this.loadOnce();
    return this.config;
  }

  /**
   * Reads the source now, bypassing the shared cache (a push changed the file). Reads asked for
   * meanwhile share this one, so an older text from the cache cannot land after it.
   */
  async refresh(): Promise<RelayConfig | null> {
    const refreshing: Promise<boolean> = this.load(true).finally(() => {
      if (this.inFlight === refreshing) this.inFlight = null;
    });
    this.inFlight = refreshing;
    await refreshing;
    return this.config;
  }

  /** True when this push changed the GitHub config file on the branch it is read from. */
  isConfigPush(push: PushSummary): boolean {
    if (this.location.kind !== "github") return false;
    const { owner, repo, path, ref } = this.location.file;
    if (!sameRepo(push.repository.full_name, `${owner}/${repo}`)) return false;
    const branch = ref ?? push.repository.default_branch;
    if (branch === undefined) return false;
    const configRef = branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
    if (push.ref !== configRef) return false;
    const target = withoutLeadingSlash(path);
    return (push.commits ?? []).some((commit) =>
      [...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])].includes(target),
    );
  }

  describe(): ConfigSourceDescription {
    return {
      kind: this.location.kind,
      location: this.location.display,
      via: this.location.via,
      loaded: this.config !== null,
      form: this.config?.form ?? null,
    };
  }

  /** Stops background retries. */
  close(): void {
    this.closed = true;
    this.retry?.cancel();
    this.retry = null;
  }

  private retryInBackground(): void {
    if (this.closed || this.config !== null) return;
    this.retry = this.schedule(() => {
      this.retry = null;
      // a get() may have loaded it meanwhile
      if (this.config !== null) return;
      void this.loadOnce().then((ok) => {
        if (!ok) this.retryInBackground();
      });
    }, this.retryDelayMs());
  }

  private retryDelayMs(): number {
    return Math.min(FIRST_RETRY_MS * 2 ** Math.max(this.failures - 1, 0), RETRY_CAP_MS);
  }

  /** One read at a time for TTL and retry reads: concurrent callers share it. */
  private loadOnce(): Promise<boolean> {
    this.inFlight ??= this.load(false).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Reads, validates and applies; false (and logged) when the read or the validation failed. */
  private async load(bypassCache: boolean): Promise<boolean> {
    const attempt = ++this.started;
    const location = this.location;
    try {
      const { text, fromGithub } =
        location.kind === "local"
          ? { text: await this.readLocal(location.path), fromGithub: false }
          : await this.readGithub(location.file, bypassCache);
      if (this.apply(text, attempt) && fromGithub) await this.shareInCache(text);
      return true;
    } catch (error) {
      // Closed (shutting down) while the read was under way: nothing more to say or retry.
      if (this.closed) return false;
      this.failures += 1;
      this.nextReadAt = this.now() + this.retryDelayMs();
      this.options.logger.error(
        { source: this.location.display, err: error instanceof Error ? error.message : String(error) },
        this.config === null
          ? "relay config could not be loaded; retrying"
          : "relay config re-read failed; keeping the last good config",
      );
      return false;
    }
  }

  /** Validates (throwing RelayConfigError) and keeps the config; false when a newer read got there first. */
  private apply(text: string, attempt: number): boolean {
    const config = parseRelayConfig(text, {
      upstreamRepo: this.options.env.upstreamRepo,
      source: this.location.display,
    });
    // A slower, older read must not overwrite what a newer one (say a push refresh) already applied.
    if (attempt < this.applied) return false;
    if (text !== this.text) {
      this.options.logger.info(
        { source: this.location.display, form: config.form, downstreams: config.downstreams.length },
        "relay config loaded",
      );
    }
    this.applied = attempt;
    this.config = config;
    this.text = text;
    this.failures = 0;
    this.nextReadAt = this.now() + config.cacheTtlSeconds * 1000;
    return true;
  }

  private async readLocal(path: string): Promise<string> {
    try {
      return await readLocalFile(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      // A file that is not there is the setting's fault: name the variable that pointed at it.
      const source =
        this.location.via === "RELAY_CONFIG" ? `RELAY_CONFIG: ${this.location.display}` : this.location.display;
      throw new RelayConfigError(source, [{ path: "", message: `cannot read the file (${code})` }]);
    }
  }

  private async readGithub(file: GithubFile, bypassCache: boolean): Promise<{ text: string; fromGithub: boolean }> {
    if (!bypassCache) {
      const cached = await readCachedConfig(this.options.store, this.sourceHash).catch((error: unknown) => {
        this.options.logger.warn({ err: String(error) }, "relay config cache unavailable; reading GitHub");
        return null;
      });
      if (cached !== null) return { text: cached, fromGithub: false };
    }
    return { text: await this.options.readFile(file), fromGithub: true };
  }

  /** Only text that validated is shared, so a bad push never reaches other processes through the cache. */
  private async shareInCache(text: string): Promise<void> {
    const ttlSeconds = this.config?.cacheTtlSeconds;
    try {
      await cacheConfig(this.options.store, this.sourceHash, text, ttlSeconds);
    } catch (error) {
      this.options.logger.warn({ err: String(error) }, "relay config cache unavailable; not shared");
    }
  }
}
