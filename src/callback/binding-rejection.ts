import type { OidcIdentity } from "../auth/oidc-verifier";
import type { RelayTokenClaims } from "../auth/relay-token";
import { matchesWorkflowRef } from "../config/pattern";
import { sameRepo, type CallerPins } from "../config/types";

export type BindingRejection = "repository-mismatch" | "repository-id-mismatch" | "workflow-ref-mismatch";

/**
 * SPEC §4.3: an OIDC identity may report only for a dispatch sent to its own repository, and, where the
 * config pins them, only from that repository id (a deleted-and-recreated repo has a new one) and from
 * matching workflows. Returns the broken rule, or null when the caller is bound to the token. Pure.
 * The pins name GitHub Actions claims; a `ci_providers` caller is pinned by its `repo_map` entry instead.
 */
export function bindingRejection(
  identity: Pick<OidcIdentity, "repository" | "repository_id" | "workflow_ref" | "provider">,
  claims: Pick<RelayTokenClaims, "sub">,
  pins: CallerPins,
): BindingRejection | null {
  if (!sameRepo(identity.repository, claims.sub)) return "repository-mismatch";
  if (identity.provider !== undefined) return null;
  if (pins.repositoryId !== undefined && identity.repository_id !== pins.repositoryId) return "repository-id-mismatch";
  if (pins.workflowRef !== undefined) {
    const ref = identity.workflow_ref;
    if (ref === undefined || !matchesWorkflowRef(pins.workflowRef, ref)) return "workflow-ref-mismatch";
  }
  return null;
}
