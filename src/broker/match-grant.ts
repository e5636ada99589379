import { matchesAnyPattern, matchesPattern, matchesWorkflowRef } from "../config/pattern";
import { sameRepo, type BrokerGrant } from "../config/types";

/** The OIDC claims a grant is matched against. */
export interface BrokerIdentity {
  repository: string;
  repository_id?: string;
  workflow_ref?: string;
  ref?: string;
  event_name?: string;
}

export type GrantDecision =
  | { allowed: true; live: boolean }
  | { allowed: false; kind: "caller-not-allowed" | "repo-not-allowed" | "operation-not-allowed" };

/** A pin the grant leaves out admits any value; one it sets is never met by a claim the token lacks. */
function pinHolds<P>(
  pin: P | undefined,
  claim: string | undefined,
  matches: (pin: P, claim: string) => boolean,
): boolean {
  return pin === undefined || (claim !== undefined && matches(pin, claim));
}

/** Everything but the repository (a name, compared case-insensitively) and its id is a SPEC §2 pattern. */
function callerMatches(caller: BrokerGrant["caller"], identity: BrokerIdentity): boolean {
  return (
    sameRepo(caller.repository, identity.repository) &&
    (caller.repositoryId === undefined || caller.repositoryId === identity.repository_id) &&
    pinHolds(caller.workflowRef, identity.workflow_ref, matchesWorkflowRef) &&
    pinHolds(caller.ref, identity.ref, matchesPattern) &&
    pinHolds(caller.eventName, identity.event_name, matchesAnyPattern)
  );
}

/** Grants of this identity that name `repo`; the broker's other decisions start from these. */
export function grantsFor(grants: readonly BrokerGrant[], identity: BrokerIdentity, repo: string): BrokerGrant[] {
  return grants.filter((grant) => callerMatches(grant.caller, identity) && grant.repos.some((r) => sameRepo(r, repo)));
}

/**
 * SPEC §6, default deny: may this identity run `operation` on `repo`, and may it write for real?
 * The failure names the first thing missing: the identity, then the repo, then the operation.
 */
export function matchGrant(
  grants: readonly BrokerGrant[],
  identity: BrokerIdentity,
  repo: string,
  operation: string,
): GrantDecision {
  if (!grants.some((grant) => callerMatches(grant.caller, identity)))
    return { allowed: false, kind: "caller-not-allowed" };
  const onRepo = grantsFor(grants, identity, repo);
  if (onRepo.length === 0) return { allowed: false, kind: "repo-not-allowed" };
  const withOperation = onRepo.filter((grant) => grant.operations.includes(operation));
  if (withOperation.length === 0) return { allowed: false, kind: "operation-not-allowed" };
  return { allowed: true, live: withOperation.some((grant) => grant.live.includes(operation)) };
}
