import { matchesAnyPattern } from "../config/pattern";
import type { Downstream, RelayConfig } from "../config/types";
import { sameRepo } from "../config/types";
import type { UpstreamEvent } from "./upstream-event";

export type SkipReason =
  | "not-an-upstream"
  | "branch-deleted"
  | "branch-not-relayed"
  | "tag-not-relayed"
  | "action-not-relayed"
  | "untrusted-author"
  | "nightly-only"
  | "no-downstream-for-event";

/** Why one downstream gets no dispatch of an event that is relayed to others. */
export type DownstreamSkipReason = "nightly-only" | "event-not-wanted";

export type DispatchPlan =
  | { relay: true; downstreams: Downstream[]; skipped: { repo: string; reason: DownstreamSkipReason }[] }
  | { relay: false; reason: SkipReason };

const BRANCH_REF = /^refs\/heads\/(.+)$/;
const TAG_REF = /^refs\/tags\/(.+)$/;

/** SPEC §2–§3: which downstreams get this upstream event. Pure. */
export function planDispatches(config: RelayConfig, event: UpstreamEvent): DispatchPlan {
  if (!config.upstreams.some((u) => sameRepo(u, event.repo))) return { relay: false, reason: "not-an-upstream" };

  if (event.event === "push") {
    if (event.deleted) return { relay: false, reason: "branch-deleted" };
    const tag = TAG_REF.exec(event.ref)?.[1];
    if (tag !== undefined) {
      if (!matchesAnyPattern(config.push.tags, tag)) return { relay: false, reason: "tag-not-relayed" };
    } else {
      const branch = BRANCH_REF.exec(event.ref)?.[1];
      if (branch === undefined || !matchesAnyPattern(config.push.branches, branch)) return { relay: false, reason: "branch-not-relayed" };
    }
  } else {
    const pr = config.pullRequest;
    // A maintainer adding the trust label to an untrusted PR is what lets it run: relay that moment.
    const trustLabelAdded = event.action === "labeled" && pr.trustLabel !== null && event.addedLabel === pr.trustLabel;
    if (!trustLabelAdded && !pr.actions.includes(event.action ?? "")) {
      return { relay: false, reason: "action-not-relayed" };
    }
    if (!isTrusted(config, event)) return { relay: false, reason: "untrusted-author" };
    if (trustLabelAdded && isTrustedByAssociation(config, event)) {
      // A trusted author's PR was relayed already when it was opened; the label changes nothing.
      return { relay: false, reason: "action-not-relayed" };
    }
  }

  const downstreams: Downstream[] = [];
  const skipped: { repo: string; reason: DownstreamSkipReason }[] = [];
  for (const downstream of config.downstreams) {
    // `events: []`: the downstream only reports nightly/periodic runs of its own (SPEC §2).
    if (downstream.events.length === 0) skipped.push({ repo: downstream.repo, reason: "nightly-only" });
    else if (!downstream.events.includes(event.event)) skipped.push({ repo: downstream.repo, reason: "event-not-wanted" });
    else downstreams.push(downstream);
  }
  if (downstreams.length === 0) {
    const nightlyOnly = skipped.length > 0 && skipped.every((s) => s.reason === "nightly-only");
    return { relay: false, reason: nightlyOnly ? "nightly-only" : "no-downstream-for-event" };
  }
  return { relay: true, downstreams, skipped };
}

function isTrustedByAssociation(config: RelayConfig, event: UpstreamEvent): boolean {
  const trust = config.pullRequest.trust;
  return trust === null || (event.authorAssociation !== null && trust.includes(event.authorAssociation));
}

function isTrusted(config: RelayConfig, event: UpstreamEvent): boolean {
  const label = config.pullRequest.trustLabel;
  return isTrustedByAssociation(config, event) || (label !== null && event.labels.includes(label));
}
