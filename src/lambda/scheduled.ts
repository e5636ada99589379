import type { Context, ScheduledEvent } from "aws-lambda";
import { redeliverMissed } from "../redelivery/redeliver-missed";
import { sweepAllTimeouts } from "../timeouts/timeout-sweeps";
import { drainDeadline } from "./drain-deadline";
import { lambdaRelay } from "./lambda-relay";

/** Runs every minute; a drain still going when the next starts is fine (tasks are leased). */
const DRAIN_BUDGET_MS = 50_000;

export interface ScheduledOutcome {
  timedOut: number;
  ran: number;
  /** missed webhook deliveries GitHub was asked to redeliver */
  redeliveries: number;
}

/**
 * The scheduled function (EventBridge, every minute): what the server's timers do. Concludes check
 * runs and jobs whose deadline passed, asks GitHub to redeliver missed webhook deliveries (SPEC §3,
 * with REDELIVER_MISSED), then runs due outbox work — retries, and whatever webhook and HTTP
 * invocations left — until shortly before the Lambda timeout.
 */
export async function handler(_event: ScheduledEvent, context?: Context): Promise<ScheduledOutcome> {
  const relay = await lambdaRelay();
  // A config due for re-reading (cache_ttl_seconds) is read here too, not only on the next webhook.
  await relay.config.get().catch((error: unknown) => relay.log.warn({ err: error }, "config re-read failed"));
  const timedOut = await sweepAllTimeouts(relay, Date.now());
  const redeliveries = relay.env.redeliverMissed
    ? await redeliverMissed(relay, Date.now()).then(
        (outcome) => outcome.asked,
        (error: unknown) => {
          relay.log.warn({ err: error }, "checking for missed deliveries failed; the next run tries again");
          return 0;
        },
      )
    : 0;
  const ran = await relay.runner.drain(drainDeadline(Date.now(), DRAIN_BUDGET_MS, context?.getRemainingTimeInMillis()));
  relay.log.info({ timedOut, redeliveries, ran }, "scheduled outbox drain");
  return { timedOut, ran, redeliveries };
}
