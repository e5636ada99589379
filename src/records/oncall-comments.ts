import { z } from "zod";
import type { Store } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * SPEC §2 `notify: [comment]`: per upstream PR, the GitHub comment the oncall-comment task made and
 * a digest of the body it was last given, and the lease of the one task writing it.
 */
export const storedCommentSchema = z.object({ id: z.number(), bodySha256: z.string() });
export type StoredComment = z.infer<typeof storedCommentSchema>;

export async function readOncallComment(
  store: Pick<Store, "get">,
  upstream: string,
  prNumber: number,
): Promise<StoredComment | null> {
  return readRecord(
    "oncall comment",
    storedCommentSchema,
    await store.get(keys.oncallComments.comment(upstream, prNumber)),
  );
}

/** Remembers the PR's comment, or (null) that it has none: deleted on GitHub and nothing failing to make it again. */
export async function storeOncallComment(
  store: Pick<Store, "write">,
  upstream: string,
  prNumber: number,
  comment: StoredComment | null,
): Promise<void> {
  const key = keys.oncallComments.comment(upstream, prNumber);
  await store.write([
    comment === null
      ? { op: "del", key }
      : { op: "set", key, value: JSON.stringify(comment), ttlSeconds: RECORD_TTL_SECONDS },
  ]);
}

/** One writer per PR's comment at a time, so two workers never both create it: true when `holder` took the lease. */
export function lockOncallComment(
  store: Pick<Store, "setIfAbsent">,
  upstream: string,
  prNumber: number,
  holder: string,
  leaseSeconds: number,
): Promise<boolean> {
  return store.setIfAbsent(keys.oncallComments.lock(upstream, prNumber), holder, leaseSeconds);
}

/** Releases the lease if `holder` still has it. */
export async function unlockOncallComment(
  store: Pick<Store, "writeIf">,
  upstream: string,
  prNumber: number,
  holder: string,
): Promise<void> {
  const key = keys.oncallComments.lock(upstream, prNumber);
  await store.writeIf(key, holder, [{ op: "del", key }]);
}
