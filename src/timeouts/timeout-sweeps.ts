/**
 * timeouts/ owns when things time out (SPEC §3): the one loop over due deadlines (sweep-due.ts), the
 * sweeps it drives in order, and the server's timer. What a timeout decides and writes stays with what
 * times out: jobs in callback/, check runs in checks/.
 */
import type { Logger } from "pino";
import { timeOutJob, type JobTimeoutDeps } from "../callback/sweep-job-timeouts";
import { timeOutCheckRun, type CheckTimeoutDeps } from "../checks/sweep-timeouts";
import type { ConfigSource } from "../config/config-source";
import type { RelayConfig } from "../config/types";
import type { Store } from "../store/store";
import { sweepDue, type DueSweep } from "./sweep-due";

/** What every sweep reads: where the deadlines are, and the relay config (nothing times out before it is loaded). */
interface SweepDeps {
  store: Store;
  config: Pick<ConfigSource, "current">;
}

export type TimeoutSweepDeps = SweepDeps & JobTimeoutDeps & CheckTimeoutDeps;

/** Jobs in progress too long (state, check run, HUD record). */
const jobTimeouts = (deps: JobTimeoutDeps, config: RelayConfig, now: number): DueSweep => ({
  deadlines: "jobs",
  timeOut: (id) => timeOutJob(deps, config, id, now),
});

/** Check runs nobody picked up or finished. */
const checkRunTimeouts = (deps: CheckTimeoutDeps, config: RelayConfig, now: number): DueSweep => ({
  deadlines: "checkRuns",
  timeOut: (key, leasedScore) => timeOutCheckRun(deps, config, key, leasedScore, now),
});

async function runSweeps(deps: SweepDeps, now: number, sweepsOf: (config: RelayConfig) => DueSweep[]): Promise<number> {
  const config = deps.config.current();
  if (!config) return 0;
  let timedOut = 0;
  for (const sweep of sweepsOf(config)) timedOut += await sweepDue(deps.store, sweep, now);
  return timedOut;
}

/**
 * Every timeout the relay enforces. Jobs go first so a job's own timeout, with its HUD record, wins
 * over the bare check-run deadline. Returns how many things timed out (their effects are outbox
 * tasks: drain or kick the runner after).
 */
export function sweepAllTimeouts(deps: TimeoutSweepDeps, now: number): Promise<number> {
  return runSweeps(deps, now, (config) => [jobTimeouts(deps, config, now), checkRunTimeouts(deps, config, now)]);
}

/** The job sweep of `sweepAllTimeouts` alone. */
export function sweepJobTimeouts(deps: SweepDeps & JobTimeoutDeps, now: number): Promise<number> {
  return runSweeps(deps, now, (config) => [jobTimeouts(deps, config, now)]);
}

/** The check-run sweep of `sweepAllTimeouts` alone. */
export function sweepCheckRunTimeouts(deps: SweepDeps & CheckTimeoutDeps, now: number): Promise<number> {
  return runSweeps(deps, now, (config) => [checkRunTimeouts(deps, config, now)]);
}

/**
 * The long-lived server's timer for `sweepAllTimeouts`; a scheduled Lambda calls it directly. The
 * function it returns stops the timer and resolves once a sweep under way has finished, so the
 * store can be closed after it.
 */
export function startTimeoutSweeps(
  deps: TimeoutSweepDeps & { runner: { kick(): void }; log: Logger },
  intervalMs: number,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepAllTimeouts(deps, Date.now())
      .then((timedOut) => {
        if (timedOut > 0) deps.runner.kick();
      })
      .catch((error: unknown) => {
        // During an outage the store has said so once; a failed sweep every few seconds adds nothing.
        if (deps.store.reachable()) deps.log.error({ err: error }, "timeout sweep failed");
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
