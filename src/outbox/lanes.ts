/**
 * Which lane of the outbox a task waits in. GitHub paces content-creating requests per app
 * installation, and an app is installed once per account: so the lane of a task that writes to GitHub
 * is the account (owner) of the repository it writes to, and one installation's backlog never delays
 * another's work. Tasks that do not write to GitHub have lanes of their own.
 */
export function installationLane(repo: string): string {
  return `installation:${repo.split("/")[0].toLowerCase()}`;
}

/** HUD records go to the HUD, not GitHub: they never wait behind a paced installation. */
export const HUD_LANE = "hud";
/** Job requests for queue downstreams are Redis stream entries: no GitHub pacing applies. */
export const QUEUE_LANE = "queue";
/** Anything enqueued without a lane (reads, bookkeeping). */
export const DEFAULT_LANE = "default";
