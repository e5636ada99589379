/**
 * redelivery/ owns missed webhook deliveries: a periodic check of the app's recent deliveries, which
 * failed ones to ask GitHub to redeliver (pick-redeliveries.ts, pure), and remembering what it asked.
 */
import { z } from "zod";
import type { ConfigSource } from "../config/config-source";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Metrics } from "../metrics/metrics";
import type { Store } from "../store/store";
import { classifyFailure } from "../outbox/classify-failure";
import { deliveriesClaimed } from "../records/deliveries";
import {
  forgetRedeliveryAsked,
  lockRedeliveryCheck,
  markRedeliveryAsked,
  readSeenUntil,
  storeSeenUntil,
} from "../records/redelivery";
import { hookDeliverySchema, pickRedeliveries, type HookDelivery } from "./pick-redeliveries";

/** The check asks GitHub (as the app) for its recent deliveries and remembers what it asked for in the store. */
export interface RedeliveryDeps {
  probot: Probot;
  store: Store;
  metrics: Pick<Metrics, "redeliveries">;
  log: Logger;
  config: Pick<ConfigSource, "current">;
}

/** SPEC §3: at most one check a minute per relay, however many processes or containers run it. */
const LOCK_SECONDS = 60;
/**
 * Each check looks this far behind the mark again: a slow delivery is listed up to 10 s after newer
 * ones, and a delivery whose claim's owner died is "stored" until the claim's 120 s lease runs out.
 * Looking twice is harmless.
 */
const OVERLAP_MS = 3 * 60_000;
/** Without a mark (a new relay, a flushed Redis) only this recent past is examined. */
const FIRST_LOOKBACK_MS = 60 * 60_000;
/** GitHub redelivers only deliveries of the past three days; a mark of having asked outlives that. */
const ASKED_SECONDS = 4 * 24 * 3600;
/** A backlog larger than this (per check) is left for the operator; the log says so. */
const MAX_PAGES = 20;
const PER_PAGE = 100;
/**
 * Asks are GitHub writes, paced about a second apart: a check asks at most this many, so it ends
 * well within a scheduled Lambda's time, and leaves the rest to the next check.
 */
const MAX_ASKS = 10;

export interface RedeliveryOutcome {
  /** false when another process (or this one) checked less than a minute ago, or no config is loaded yet */
  checked: boolean;
  listed: number;
  asked: number;
  /** asks that failed: those GitHub failed to take (5xx, rate limit, no answer) are asked again by the next check */
  failed: number;
  /** missed deliveries over this check's MAX_ASKS: asked by the next */
  left: number;
}

type AppOctokit = Awaited<ReturnType<Probot["auth"]>>;

/** Newest first, back to `since`: GitHub's pages (`cursor` in the Link header) until one reaches it. */
async function listSince(app: AppOctokit, since: number): Promise<{ deliveries: HookDelivery[]; complete: boolean }> {
  const deliveries: HookDelivery[] = [];
  let pages = 0;
  for await (const { data } of app.paginate.iterator("GET /app/hook/deliveries", { per_page: PER_PAGE })) {
    pages += 1;
    const page = z.array(hookDeliverySchema).parse(data);
    const recent = page.filter((d) => d.deliveredAt >= since);
    deliveries.push(...recent);
    if (recent.length < page.length) return { deliveries, complete: true };
    if (pages >= MAX_PAGES) return { deliveries, complete: false };
  }
  return { deliveries, complete: true };
}

/**
 * SPEC §3 "Missed deliveries": GitHub never retries a failed webhook delivery. Lists the app's recent
 * deliveries and asks GitHub, once, to redeliver each whose every attempt failed and that the relay
 * never stored (no claim or done record under its `X-GitHub-Delivery`). The redelivery arrives as a
 * webhook and is relayed exactly once like any other. "Once" is remembered per delivery in the store;
 * an ask GitHub failed to take (5xx, rate limit, no answer) is forgotten so the next check asks again;
 * one it refused for good (4xx) is not. Once `stopping()` (a shutdown)
 * it asks no more and leaves the rest to the next check.
 */
export async function redeliverMissed(
  relay: RedeliveryDeps,
  now: number,
  stopping: () => boolean = () => false,
): Promise<RedeliveryOutcome> {
  const skipped = { checked: false, listed: 0, asked: 0, failed: 0, left: 0 };
  // A redelivery answered 503 (no config yet) would count as failed again, and is never asked twice.
  if (relay.config.current() === null) return skipped;
  if (!(await lockRedeliveryCheck(relay.store, now, LOCK_SECONDS))) return skipped;
  // The newest delivery a finished check listed: this one stops near it.
  const mark = await readSeenUntil(relay.store);
  const since = mark !== null ? mark - OVERLAP_MS : now - FIRST_LOOKBACK_MS;
  const app = await relay.probot.auth();
  const { deliveries, complete } = await listSince(app, since);
  if (!complete)
    relay.log.warn(
      { listed: deliveries.length },
      "more webhook deliveries since the last check than one check lists; older ones are not examined",
    );

  const candidates = pickRedeliveries(deliveries);
  const claimed = await deliveriesClaimed(
    relay.store,
    candidates.map((d) => d.guid),
  );
  let asked = 0;
  let failed = 0;
  let retry = 0;
  let left = 0;
  for (const [i, delivery] of candidates.entries()) {
    if (claimed[i]) continue;
    if (asked + failed >= MAX_ASKS || stopping()) {
      left += 1;
      continue;
    }
    if (!(await markRedeliveryAsked(relay.store, delivery.guid, now, ASKED_SECONDS))) continue;
    try {
      await app.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: delivery.id });
      asked += 1;
      relay.metrics.redeliveries.inc({ outcome: "requested" });
      relay.log.info(
        { deliveryId: delivery.guid, event: delivery.event, action: delivery.action, statusCode: delivery.statusCode },
        "asked GitHub to redeliver a missed delivery",
      );
    } catch (error) {
      failed += 1;
      relay.metrics.redeliveries.inc({ outcome: "failed" });
      // GitHub unwell: ask again next time. A refusal for good (a 4xx: too old, gone) stays asked.
      const failure = classifyFailure(error, now);
      if (failure.retryable) {
        retry += 1;
        await forgetRedeliveryAsked(relay.store, delivery.guid);
      }
      relay.log.warn(
        { deliveryId: delivery.guid, failure: failure.summary, askAgain: failure.retryable },
        "GitHub did not redeliver a missed delivery",
      );
    }
  }
  // What is to be asked again is looked at again next time, so the mark moves only when nothing is.
  const newest = Math.max(mark ?? 0, ...deliveries.map((d) => d.deliveredAt));
  if (retry === 0 && left === 0 && newest > 0) await storeSeenUntil(relay.store, newest);
  relay.log.info(
    { listed: deliveries.length, missed: candidates.length, asked, failed, left },
    "missed deliveries checked",
  );
  return { checked: true, listed: deliveries.length, asked, failed, left };
}

/**
 * The long-lived server's timer for `redeliverMissed`, beside the outbox drain; the store lock keeps
 * all processes together to one check a minute. The scheduled Lambda calls `redeliverMissed` itself.
 * The returned stop ends the timer and resolves once a check in progress has stopped asking.
 */
export function startRedeliveryChecks(
  relay: RedeliveryDeps,
  intervalMs: number,
  now: () => number = Date.now,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  // One line when checks start failing (GitHub or Redis away) and one when they work again, not one per try.
  let failing = false;
  const check = () => {
    if (running || stopped) return;
    running = redeliverMissed(relay, now(), () => stopped)
      .then(() => {
        if (failing) relay.log.info("checking for missed deliveries works again");
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing && !stopped)
          relay.log.warn({ err: error }, "checking for missed deliveries failed; trying again until it works");
        failing = true;
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  check();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
