import { readGitHubHealth, recordGitHubFailing, recordGitHubOk } from "../records/github-calls";
import type { GitHubMetrics } from "./github-metrics";
import type { Store } from "../store/store";
import { isFailingOutcome, statusClass, type GitHubCallOutcome } from "./github-call-outcome";

/** One HTTP attempt to GitHub, as `observedFetch` saw it. */
export interface GitHubCall {
  method: string;
  /** null: no answer (connection refused, reset, timed out) */
  status: number | null;
  outcome: GitHubCallOutcome;
}

/** SPEC §6 `github`: ISO-8601 times, null when never (or not now). */
export interface GitHubCallState {
  lastOkAt: string | null;
  /** the first failed call since the last one that succeeded, in any process sharing the store */
  failingSince: string | null;
}

/**
 * A busy relay calls GitHub many times a second: each process refreshes the shared record at most
 * this often, and at once when a success follows a failure (which ends the failing spell for all).
 */
const REFRESH_MS = 5_000;

const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/**
 * Every GitHub call the relay makes passes through here (fed by the Octokit's fetch, see
 * `relayOctokit`): it is counted by outcome, and `lastOkAt` / `failingSince` are kept in the store,
 * so every server process and Lambda container reports the same thing — on Lambda a container's
 * own memory says nothing about the calls other containers made. Until a store is attached (and when
 * it cannot be written) the process's own view is kept and reported.
 */
export class GitHubCalls {
  private store: Store | null = null;
  private lastOkAt: number | null = null;
  private failingSince: number | null = null;
  private okWrittenAt = Number.NEGATIVE_INFINITY;
  private failingWrittenAt = Number.NEGATIVE_INFINITY;
  private failedSinceOkWritten = false;

  constructor(
    private readonly metrics: Pick<GitHubMetrics, "githubCalls">,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shares the state through `store` from now on. */
  useStore(store: Store): void {
    this.store = store;
  }

  /** Never throws: a GitHub call's own result must not depend on recording it. */
  readonly observe = async (call: GitHubCall): Promise<void> => {
    this.metrics.githubCalls.inc({ method: call.method, status: statusClass(call.status), outcome: call.outcome });
    const now = this.now();
    if (call.outcome === "ok") await this.recordOk(now);
    else if (isFailingOutcome(call.outcome)) await this.recordFailure(now);
    // Other 4xx (not found, validation) are GitHub answering: they neither end nor start a failing spell.
  };

  /** `shared: false` reports this process's own view without touching the store (it is unreachable). */
  async state(shared = true): Promise<GitHubCallState> {
    const local = { lastOkAt: iso(this.lastOkAt), failingSince: iso(this.failingSince) };
    if (!this.store || !shared) return local;
    try {
      const stored = await readGitHubHealth(this.store);
      return {
        lastOkAt: iso(Math.max(stored.lastOkAt ?? Number.NEGATIVE_INFINITY, this.lastOkAt ?? Number.NEGATIVE_INFINITY)),
        failingSince: stored.failingSince === null ? null : iso(stored.failingSince),
      };
    } catch {
      return local;
    }
  }

  private async recordOk(now: number): Promise<void> {
    this.lastOkAt = now;
    this.failingSince = null;
    if (!this.store || (!this.failedSinceOkWritten && now - this.okWrittenAt < REFRESH_MS)) return;
    this.okWrittenAt = now;
    this.failedSinceOkWritten = false;
    this.failingWrittenAt = Number.NEGATIVE_INFINITY;
    await recordGitHubOk(this.store, now).catch(() => {
      this.okWrittenAt = Number.NEGATIVE_INFINITY; // try again with the next call
    });
  }

  private async recordFailure(now: number): Promise<void> {
    this.failingSince ??= now;
    this.failedSinceOkWritten = true;
    if (!this.store || now - this.failingWrittenAt < REFRESH_MS) return;
    this.failingWrittenAt = now;
    // The first failure anywhere since the last success marks the start; later ones leave it.
    await recordGitHubFailing(this.store, now).catch(() => {
      this.failingWrittenAt = Number.NEGATIVE_INFINITY;
    });
  }
}
