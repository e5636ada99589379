import { matchesAnyPattern } from "../config/pattern";
import type { Downstream, RelayConfig } from "../config/types";
import { sameRepo } from "../config/types";
import type { UpstreamEvent } from "./upstream-event";

export type SkipReason =
  | "not-an-upstream"
  | "branch-deleted"
  | "branch-not-relayed"
  | "action-not-relayed"
  | "untrusted-author"
  | "no-downstream-for-event";

export type DispatchPlan =
  | { relay: true; downstreams: Downstream[] }
  | { relay: false; reason: SkipReason };

const BRANCH_REF = /^refs\/heads\/(.+)$/;

/** SPEC §2–§3: which downstreams get this upstream event. Pure. */
export function planDispatches(config: RelayConfig, event: UpstreamEvent): DispatchPlan {
  if (!config.upstreams.some((u) => sameRepo(u, event.repo))) return { relay: false, reason: "not-an-upstream" };

  if (event.event === "push") {
    if (event.deleted) return { relay: false, reason: "branch-deleted" };
    const branch = BRANCH_REF.exec(event.ref)?.[1];
    if (branch === undefined || !matchesAnyPattern(config.push.branches, branch)) {
      return { relay: false, reason: "branch-not-relayed" };
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

  const downstreams = config.downstreams.filter((d) => d.events.includes(event.event));
  if (downstreams.length === 0) return { relay: false, reason: "no-downstream-for-event" };
  return { relay: true, downstreams };
}

function isTrustedByAssociation(config: RelayConfig, event: UpstreamEvent): boolean {
  const trust = config.pullRequest.trust;
  return trust === null || (event.authorAssociation !== null && trust.includes(event.authorAssociation));
}

function isTrusted(config: RelayConfig, event: UpstreamEvent): boolean {
  const label = config.pullRequest.trustLabel;
  return isTrustedByAssociation(config, event) || (label !== null && event.labels.includes(label));
}
