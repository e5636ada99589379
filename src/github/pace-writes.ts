import type { ProbotOctokit } from "probot";
import { reserveWriteSlot } from "../records/write-pacing";
import type { GitHubMetrics } from "./github-metrics";
import type { StoreLog } from "../store/redis-store";
import type { Store } from "../store/store";
import { MAX_IN_PROCESS_WAIT_SECONDS } from "./relay-octokit";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** GitHub asks for at least a second between content-creating requests of one installation. */
const WRITE_INTERVAL_MS = 1_000;
const MAX_WAIT_MS = MAX_IN_PROCESS_WAIT_SECONDS * 1000;
/** One lane per installation: a busy installation never makes another one wait. */

/**
 * A write whose installation has no slot free within the in-process wait limit. Shaped like GitHub's
 * own 429 (status, `retry-after`), so the outbox reschedules it and the broker answers
 * `github-rate-limited`, exactly as for a rate limit GitHub itself reported. Nothing was sent.
 */
export class WriteSlotUnavailable extends Error {
  readonly status = 429;
  readonly response: { headers: Record<string, string> };
  /** the outbox reschedules the task this much later without counting an attempt (src/outbox/deferral.ts) */
  readonly deferMs: number;

  constructor(installationId: number, waitMs: number) {
    super(
      `GitHub writes for installation ${installationId} are paced; the next free slot is ${Math.ceil(waitMs / 1000)} s away`,
    );
    this.response = { headers: { "retry-after": String(Math.ceil(waitMs / 1000)) } };
    this.deferMs = waitMs;
  }
}

/**
 * How long an outbox task's write may sleep in-process for its slot. A sleeping task holds a runner
 * slot that another installation's work could use, so a later slot makes it `WriteSlotUnavailable`
 * at once: rescheduled for its slot, its lane waiting with it. Passed as the request option
 * `pacingWaitMs`; callers without it (the broker, answering a person) wait up to MAX_WAIT_MS.
 */
export const OUTBOX_WRITE_WAIT_MS = 100;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Write pacing shared by every process and Lambda container through the store (one atomic "next slot"
 * per installation, `Store.reserveSlot`), replacing Bottleneck's Redis clustering, which stopped every
 * write for good once its keys were lost. Reads are not paced. A lost slot record only means the next
 * write may go now; an unreachable store means pacing in this process only (plugin-throttling's own
 * limiter still spaces writes here), never no writes at all.
 */
export class WritePacer {
  private storeFailing = false;

  constructor(
    private readonly store: Pick<Store, "reserveSlot">,
    private readonly log: Pick<StoreLog, "warn" | "info">,
    private readonly metrics: Pick<GitHubMetrics, "githubRateLimitWaits" | "githubWrites">,
  ) {}

  /**
   * Makes `client`'s writes wait for their installation's slot. Hooked after the client's own
   * hooks, so it runs first: a write refused here reaches neither GitHub nor the call metrics.
   */
  pace(client: Octokit, installationId: number): void {
    client.hook.wrap("request", async (request, options) => {
      if (options.method !== "GET" && options.method !== "HEAD") {
        const { pacingWaitMs } = (options.request ?? {}) as { pacingWaitMs?: number };
        await this.waitForSlot(installationId, Math.min(pacingWaitMs ?? MAX_WAIT_MS, MAX_WAIT_MS));
        this.metrics.githubWrites.inc({ installation: String(installationId) });
      }
      return request(options);
    });
  }

  private async waitForSlot(installationId: number, maxWaitMs: number): Promise<void> {
    const slot = await reserveWriteSlot(this.store, installationId, WRITE_INTERVAL_MS, maxWaitMs).catch(
      (error: unknown) => {
        this.failing(error);
        return null;
      },
    );
    if (slot === null) return;
    this.recovered();
    if (!slot.reserved) {
      this.metrics.githubRateLimitWaits.inc({ kind: "pacing" });
      throw new WriteSlotUnavailable(installationId, slot.waitMs);
    }
    if (slot.waitMs > 0) await sleep(slot.waitMs);
  }

  /** One line per outage, not one per write. */
  private failing(error: unknown): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "write pacing store unavailable; pacing GitHub writes in this process only",
    );
  }

  private recovered(): void {
    if (!this.storeFailing) return;
    this.storeFailing = false;
    this.log.info({}, "write pacing store reachable again; GitHub writes paced across processes");
  }
}
