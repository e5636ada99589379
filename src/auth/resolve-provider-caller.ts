import { matchesAnyPattern } from "../config/pattern";
import type { ProviderRepoMapping } from "../config/types";

export type ProviderCallerRejection =
  "provider-caller-not-mapped" | "required-claim-missing" | "required-claim-mismatch";

export type ProviderCallerDecision = { repo: string } | { rejection: ProviderCallerRejection; claim?: string };

/**
 * SPEC §4 step 1 for a `ci_providers` token, once it is verified: the first `repo_map` entry whose
 * `claims` all equal the token's (exact text: ids are compared, never patterns over them) names the
 * downstream it reports as, and each of that entry's `required_claims` must match one of its patterns
 * (SPEC §2). A claim that is not a string (a number, a list) equals and matches nothing. Later
 * entries are not tried once one is chosen: its required claims gate that caller, they do not pick
 * another. Pure.
 */
export function resolveProviderCaller(
  repoMap: readonly ProviderRepoMapping[],
  claims: Readonly<Record<string, unknown>>,
): ProviderCallerDecision {
  const mapping = repoMap.find((entry) =>
    Object.entries(entry.claims).every(([claim, value]) => stringClaim(claims, claim) === value),
  );
  if (mapping === undefined) return { rejection: "provider-caller-not-mapped" };
  for (const [claim, patterns] of Object.entries(mapping.requiredClaims)) {
    const value = stringClaim(claims, claim);
    if (value === undefined) return { rejection: "required-claim-missing", claim };
    if (!matchesAnyPattern(patterns, value)) return { rejection: "required-claim-mismatch", claim };
  }
  return { repo: mapping.repo };
}

/** Inherited properties (`constructor`, `toString`) are functions, so they never pass for a claim. */
function stringClaim(claims: Readonly<Record<string, unknown>>, claim: string): string | undefined {
  const value = claims[claim];
  return typeof value === "string" ? value : undefined;
}
