import type { UpstreamEvent } from "../../src/relay/upstream-event";

/** A parsed upstream pull_request event (a trusted member's PR #7); `overrides` change any field. */
export function prEvent(overrides: Partial<UpstreamEvent> = {}): UpstreamEvent {
  return {
    event: "pull_request",
    action: "opened",
    repo: "pytorch/pytorch",
    sha: "a".repeat(40),
    ref: "refs/pull/7/head",
    prNumber: 7,
    cloneUrl: "https://github.com/pytorch/pytorch.git",
    authorAssociation: "MEMBER",
    labels: [],
    addedLabel: null,
    deleted: false,
    senderLogin: "alice",
    ...overrides,
  };
}

/** A parsed upstream push to main. */
export function pushEvent(overrides: Partial<UpstreamEvent> = {}): UpstreamEvent {
  return prEvent({
    event: "push",
    action: null,
    ref: "refs/heads/main",
    prNumber: null,
    authorAssociation: null,
    ...overrides,
  });
}
