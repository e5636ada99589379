import { RelayError } from "../errors/failure-kinds";
import { idempotentWriteRecord, type IdempotentWriteRecord } from "../records/idempotent-writes";
import type { Store } from "../store/store";

/** How long a finished write answers replays of its requestId. */
const RESULT_TTL_SECONDS = 7 * 24 * 3600;
/** A claim older than this belongs to a request that died; a retry may take it over (the marker check stops a double write). */
const STALE_CLAIM_MS = 60_000;

export interface IdempotentWriteOptions {
  store: Pick<Store, "setIfAbsent" | "get" | "compareAndSet" | "write">;
  /** the caller's OIDC `repository`: request ids are the caller's, so they are scoped to it */
  callerRepository: string;
  requestId: string;
  /** the request's operation, repo and params: a requestId reused for another request is refused */
  fingerprint: string;
  now?: () => number;
  /** how long a duplicate waits for the first request to finish; default 20 s */
  waitMs?: number;
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SPEC §6: a live write happens once per (caller repository, requestId). The first request claims
 * the key before calling GitHub; a concurrent or later duplicate waits for and answers with the
 * stored result (`replay: true`). A failed write releases the claim so the caller can retry.
 */
export async function idempotentWrite<T>(
  options: IdempotentWriteOptions,
  perform: () => Promise<T>,
): Promise<{ result: T; replay: boolean }> {
  const { store, fingerprint } = options;
  const now = options.now ?? Date.now;
  const stored = idempotentWriteRecord(store, options.callerRepository, options.requestId, RESULT_TTL_SECONDS);
  const pending = (): IdempotentWriteRecord => ({ state: "pending", fingerprint, claimedAt: now() });

  const run = async (): Promise<{ result: T; replay: boolean }> => {
    let result: T;
    try {
      result = await perform();
    } catch (error) {
      await stored.release();
      throw error;
    }
    await stored.finish({ state: "done", fingerprint, result });
    return { result, replay: false };
  };

  const deadline = now() + (options.waitMs ?? 20_000);
  let heldSince = now();
  while (now() < deadline) {
    if (await stored.claim(pending())) return run();
    const read = await stored.read();
    if (read === null) continue; // released by a failed attempt: claim it
    const { raw, record: current } = read;
    if (current.fingerprint !== fingerprint) {
      throw new RelayError(
        "validation-failed",
        "this requestId was already used for a different request",
        "request-id-reused",
      );
    }
    if (current.state === "done") return { result: current.result as T, replay: true };
    heldSince = current.claimedAt;
    if (now() - current.claimedAt > STALE_CLAIM_MS && (await stored.takeOver(raw, pending()))) return run();
    await sleep(options.pollMs ?? 100);
  }
  // A retry can take the claim over once it is stale, if the first request has not finished by then.
  const staleInSeconds = Math.ceil((heldSince + STALE_CLAIM_MS - now()) / 1000);
  throw new RelayError(
    "rate-limited",
    "an identical request is still being written; retry later",
    "write-in-progress",
    [],
    staleInSeconds,
  );
}
