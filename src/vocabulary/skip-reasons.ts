/**
 * SPEC §7's words for why a downstream got no dispatch of a delivery. The first five stop the whole
 * delivery (every downstream shows the same one); `event-not-wanted` and `nightly-only` are the
 * downstream's own choice.
 */
export const SKIP_REASONS = [
  "own-event",
  "not-upstream",
  "branch-not-relayed",
  "action-not-relayed",
  "untrusted-author",
  "event-not-wanted",
  "nightly-only",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * A dispatched downstream can still show nothing on the upstream PR: an L3 downstream is dispatched
 * either way, but its check runs appear only once the PR carries `<label_prefix><device>` (SPEC §3).
 */
export type DispatchNote = "label-missing";
