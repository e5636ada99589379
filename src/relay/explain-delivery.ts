import { wantsCheckRuns } from "../checks/wants-check-runs";
import { matchesAnyPattern } from "../config/pattern";
import type { Downstream, RelayConfig } from "../config/types";
import { sameRepo } from "../config/types";
import type { UpstreamEvent } from "./upstream-event";
import type { DispatchNote, SkipReason } from "../vocabulary/skip-reasons";

export type DownstreamDecision =
  | { downstream: Downstream; dispatch: true; note: DispatchNote | null; detail: string | null }
  | { downstream: Downstream; dispatch: false; reason: SkipReason; detail: string };

/** What the relay decided for every configured downstream, in config order. */
export interface DeliveryExplanation {
  downstreams: DownstreamDecision[];
}

/** A reason that stops the delivery before any downstream is looked at. */
interface Gate {
  reason: SkipReason;
  detail: string;
}

const BRANCH_REF = /^refs\/heads\/(.+)$/;
const TAG_REF = /^refs\/tags\/(.+)$/;

/**
 * SPEC §2–§3 and §7: which downstreams get this upstream event, and for every other one why not.
 * The single source of the relay's decision: `planDispatches` keeps the dispatched entries. Pure.
 * `ownEvent` is decided by the webhook (it needs the app's slug); the explanation only words it.
 */
export function explainDelivery(
  config: RelayConfig,
  event: UpstreamEvent,
  context: { ownEvent?: boolean } = {},
): DeliveryExplanation {
  const gate: Gate | null = context.ownEvent
    ? { reason: "own-event", detail: "sent by this app itself; never relayed back" }
    : deliveryGate(config, event);
  return {
    downstreams: config.downstreams.map((downstream) =>
      gate ? { downstream, dispatch: false, ...gate } : decideDownstream(config, event, downstream),
    ),
  };
}

/**
 * The one skip reason a delivery that dispatches nothing is counted under (the webhook's `skipped:`
 * outcome); null when something is dispatched. Downstreams that skipped on their own choice count
 * as `event-not-wanted` unless every one of them is nightly-only.
 */
export function deliverySkipReason(explanation: DeliveryExplanation): SkipReason | null {
  const reasons: SkipReason[] = [];
  for (const decision of explanation.downstreams) {
    if (decision.dispatch) return null;
    reasons.push(decision.reason);
  }
  const first = reasons[0];
  if (first === undefined) return "event-not-wanted";
  return reasons.every((r) => r === first) ? first : "event-not-wanted";
}

function deliveryGate(config: RelayConfig, event: UpstreamEvent): Gate | null {
  if (!config.upstreams.some((u) => sameRepo(u, event.repo))) {
    return { reason: "not-upstream", detail: `${event.repo} is not an upstream in the relay config` };
  }
  if (event.event === "push") {
    // A deletion has no commit to build; SPEC §3 relays none, whatever the branch.
    if (event.deleted)
      return { reason: "branch-not-relayed", detail: `${event.ref} was deleted; deletions are not relayed` };
    // SPEC §7 has one word for a ref that is not relayed; the detail says whether it is a tag.
    const tag = TAG_REF.exec(event.ref)?.[1];
    if (tag !== undefined) {
      return matchesAnyPattern(config.push.tags, tag)
        ? null
        : { reason: "branch-not-relayed", detail: `tag ${tag} is not among the relayed push tags` };
    }
    const branch = BRANCH_REF.exec(event.ref)?.[1];
    if (branch === undefined || !matchesAnyPattern(config.push.branches, branch)) {
      return { reason: "branch-not-relayed", detail: `${event.ref} is not among the relayed push branches` };
    }
    return null;
  }

  const pr = config.pullRequest;
  const action = event.action ?? "";
  // A maintainer adding the trust label to an untrusted PR is what lets it run: relay that moment.
  const trustLabelAdded = action === "labeled" && pr.trustLabel !== null && event.addedLabel === pr.trustLabel;
  if (!trustLabelAdded && !pr.actions.includes(action)) {
    return { reason: "action-not-relayed", detail: `pull_request action ${action || "(none)"} is not relayed` };
  }
  if (!isTrusted(config, event)) {
    const waiting = pr.trustLabel === null ? "" : `; waiting for the label ${pr.trustLabel}`;
    return {
      reason: "untrusted-author",
      detail: `author association ${event.authorAssociation ?? "(none)"} is not trusted${waiting}`,
    };
  }
  if (trustLabelAdded && isTrustedByAssociation(config, event)) {
    // A trusted author's PR was relayed already when it was opened; the label changes nothing.
    return { reason: "action-not-relayed", detail: "the trust label changes nothing for a trusted author's PR" };
  }
  return null;
}

function decideDownstream(config: RelayConfig, event: UpstreamEvent, downstream: Downstream): DownstreamDecision {
  // `events: []`: the downstream only reports nightly/periodic runs of its own (SPEC §2).
  if (downstream.events.length === 0) {
    return {
      downstream,
      dispatch: false,
      reason: "nightly-only",
      detail: "nightly-only: this downstream is never dispatched",
    };
  }
  if (!downstream.events.includes(event.event)) {
    return {
      downstream,
      dispatch: false,
      reason: "event-not-wanted",
      detail: `this downstream takes ${downstream.events.join(", ")} only`,
    };
  }
  // A closed PR's dispatch shows no check runs at any level (`tracksCheckRuns`): no label is missing there.
  const showsChecks = event.event === "pull_request" && event.action !== "closed";
  if (downstream.level === "L3" && showsChecks && !wantsCheckRuns(config, downstream, event.labels)) {
    const label = `${config.labelPrefix}${downstream.device ?? ""}`;
    return {
      downstream,
      dispatch: true,
      note: "label-missing",
      detail: `dispatched; no check runs on the PR until it carries ${label}`,
    };
  }
  return { downstream, dispatch: true, note: null, detail: null };
}

function isTrustedByAssociation(config: RelayConfig, event: UpstreamEvent): boolean {
  const trust = config.pullRequest.trust;
  return trust === null || (event.authorAssociation !== null && trust.includes(event.authorAssociation));
}

function isTrusted(config: RelayConfig, event: UpstreamEvent): boolean {
  const label = config.pullRequest.trustLabel;
  return isTrustedByAssociation(config, event) || (label !== null && event.labels.includes(label));
}
