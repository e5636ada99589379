import type { Probot } from "probot";
import { z } from "zod";
import { readAppSlug, storeAppSlug } from "../records/app-slug";
import type { StoreLog } from "../store/redis-store";
import type { Store } from "../store/store";

/** Shared by every process: one of them asking GitHub is enough. A slug changes only on a rename. */
const SLUG_TTL_SECONDS = 24 * 3600;
/** A hung GET /app must not keep the slug from ever being asked for again. */
const REQUEST_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 1_000;
const RETRY_CAP_MS = 5 * 60_000;

const appAnswer = z.object({ slug: z.string().min(1) });
const appOf = z.object({ app: z.object({ id: z.number(), slug: z.string().min(1) }) });

export interface AppSlugOptions {
  probot: Pick<Probot, "auth">;
  store: Pick<Store, "get" | "write">;
  log: Pick<StoreLog, "warn">;
  appId: number | undefined;
  now?: () => number;
}

/**
 * The app's slug for the own-event check (SPEC §3: sender `<app-slug>[bot]`), without a webhook ever
 * waiting on GitHub: `current()` answers from memory or the store, and a missing slug is asked of
 * GitHub (`GET /app`) in the background, with backoff while that fails. Until then events count as
 * not the app's own. A check run or suite of this app's id in a payload teaches the slug for free.
 */
export class AppSlug {
  private slug: string | null = null;
  private asking = false;
  private failures = 0;
  private nextAskAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: AppSlugOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The slug if known here or in the store; never waits on GitHub. */
  async current(payload?: unknown): Promise<string | null> {
    if (this.slug === null && payload !== undefined) this.learnFrom(payload);
    if (this.slug !== null) return this.slug;
    const stored = await readAppSlug(this.options.store).catch(() => null);
    if (stored !== null) {
      this.slug = stored;
      return stored;
    }
    this.askGitHub();
    return this.slug;
  }

  /** Starts asking GitHub in the background unless already asking or backing off. */
  private askGitHub(): void {
    if (this.slug !== null || this.asking || this.now() < this.nextAskAt) return;
    this.asking = true;
    void this.fetchSlug()
      .then((slug) => this.remember(slug))
      .catch((error: unknown) => {
        this.failures += 1;
        this.nextAskAt = this.now() + Math.min(FIRST_RETRY_MS * 2 ** (this.failures - 1), RETRY_CAP_MS);
        this.options.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "could not read the app's slug; own events are not recognised until it is known",
        );
      })
      .finally(() => {
        this.asking = false;
      });
  }

  private learnFrom(payload: unknown): void {
    if (this.options.appId === undefined || payload === null || typeof payload !== "object") return;
    const { check_run: run, check_suite: suite } = payload as { check_run?: unknown; check_suite?: unknown };
    const found = appOf.safeParse(run ?? suite);
    if (found.success && found.data.app.id === this.options.appId) void this.remember(found.data.app.slug);
  }

  private async fetchSlug(): Promise<string> {
    const octokit = await this.options.probot.auth();
    const { data } = await octokit.request("GET /app", {
      request: { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    });
    return appAnswer.parse(data).slug;
  }

  private async remember(slug: string): Promise<void> {
    if (this.slug === slug) return;
    this.slug = slug;
    this.failures = 0;
    await storeAppSlug(this.options.store, slug, SLUG_TTL_SECONDS).catch((error: unknown) =>
      this.options.log.warn({ err: String(error) }, "could not share the app's slug in the store"),
    );
  }
}
