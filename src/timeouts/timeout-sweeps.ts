import { sweepJobTimeouts } from "../callback/sweep-job-timeouts";
import { sweepTimeouts as sweepCheckTimeouts } from "../checks/sweep-timeouts";
import type { Relay } from "../create-relay";

type SweepRelay = Pick<Relay, "store" | "outbox" | "env" | "config">;

/**
 * Every timeout the relay enforces (SPEC §3): jobs in progress too long (state, check run, HUD),
 * then check runs nobody picked up or finished. Jobs go first so a job's own timeout, with its HUD
 * record, wins over the bare check-run deadline. Returns how many things timed out (their effects are
 * outbox tasks: drain or kick the runner after).
 */
export async function sweepAllTimeouts(relay: SweepRelay, now: number): Promise<number> {
  const jobs = await sweepJobTimeouts(relay, now);
  const checks = await sweepCheckTimeouts(relay, now);
  return jobs + checks;
}

/**
 * The long-lived server's timer for `sweepAllTimeouts`; a scheduled Lambda calls it directly. The
 * function it returns stops the timer and resolves once a sweep under way has finished, so the
 * store can be closed after it.
 */
export function startTimeoutSweeps(relay: SweepRelay & Pick<Relay, "runner" | "log">, intervalMs: number): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepAllTimeouts(relay, Date.now())
      .then((timedOut) => {
        if (timedOut > 0) relay.runner.kick();
      })
      .catch((error: unknown) => {
        // During an outage the store has said so once; a failed sweep every few seconds adds nothing.
        if (relay.store.reachable()) relay.log.error({ err: error }, "timeout sweep failed");
      })
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
