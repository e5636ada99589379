import type { OidcIdentity, OidcVerifier } from "../auth/oidc-verifier";
import { invalidToken } from "../auth/token-rejection";
import { sameRepo, type Downstream, type RelayConfig } from "../config/types";
import { RelayError } from "../errors/failure-kinds";
import { bindingRejection } from "./binding-rejection";

export interface ReportCaller {
  downstream: Downstream;
  identity: OidcIdentity;
}

export interface AuthenticateReportInput {
  bearer: string;
  config: RelayConfig;
  oidc: OidcVerifier;
  callbackAudience: string;
  /** told the identity as soon as it is verified, so a later refusal is still audited with it */
  onVerified?: (identity: OidcIdentity) => void;
}

/**
 * SPEC §4 steps 1 and 3 for a nightly or periodic report, which carries no relay token: the OIDC token,
 * verified exactly as for any callback, is the whole proof, and the repository it names must be a
 * configured downstream (at any level: what an L1 is answered is the caller's business) whose pins,
 * where the config sets them, the token meets. Nightly-only downstreams (`events: []`) are downstreams.
 */
export async function authenticateReport(input: AuthenticateReportInput): Promise<ReportCaller> {
  const identity = await input.oidc.verify(input.bearer, input.callbackAudience, input.config.ciProviders);
  input.onVerified?.(identity);
  const downstream = input.config.downstreams.find((candidate) => sameRepo(candidate.repo, identity.repository));
  if (downstream === undefined) {
    throw new RelayError(
      "caller-not-allowed",
      "The token's repository is not a downstream in the relay config.",
      "downstream-not-configured",
    );
  }
  const rejection = bindingRejection(identity, { sub: downstream.repo }, downstream.callers);
  if (rejection !== null) throw invalidToken(rejection);
  return { downstream, identity };
}
