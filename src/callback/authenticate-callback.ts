import { timingSafeEqual } from "node:crypto";
import type { OidcIdentity, OidcVerifier } from "../auth/oidc-verifier";
import { verifyRelayToken, type RelayTokenClaims } from "../auth/relay-token";
import { invalidToken } from "../auth/token-rejection";
import { sameRepo, type Downstream, type RelayConfig, type Transport } from "../config/types";
import { RelayError } from "../errors/failure-kinds";
import { bindingRejection } from "./binding-rejection";

export interface CallbackCaller {
  claims: RelayTokenClaims;
  downstream: Downstream;
  /** the verified OIDC identity; null for queue downstreams, which hold no OIDC token */
  identity: OidcIdentity | null;
}

export interface AuthenticateCallbackInput {
  bearer: string;
  relayToken: string | undefined;
  config: RelayConfig;
  oidc: OidcVerifier;
  callbackAudience: string;
  relayTokenSecrets: readonly string[];
  /** how the relay sent the dispatch a token names (its stored record), or null if it has no record */
  dispatchTransport: (requestId: string) => Promise<Transport | null>;
  /** told each identity as soon as it is verified, so a later refusal is still audited with it */
  onVerified?: (caller: Partial<CallbackCaller>) => void;
}

/**
 * SPEC §4 steps 1-3. The relay token comes first because it names the dispatch and downstream, and how
 * that dispatch was sent says what the bearer is: the relay token itself only for a job request on
 * the queue (self-hosted consumers have no OIDC issuer), else an OIDC token bound to the repository.
 * Both the dispatch record and the current config must say queue, so switching a downstream to the
 * queue never makes the relay tokens already sent in repository_dispatch payloads usable alone.
 */
export async function authenticateCallback(input: AuthenticateCallbackInput): Promise<CallbackCaller> {
  if (input.relayToken === undefined || input.relayToken === "") {
    throw new RelayError("unauthorized-caller", "The body carries no relay_token.", "relay-token-missing");
  }
  const claims = await verifyRelayToken(input.relayToken, input.relayTokenSecrets);
  input.onVerified?.({ claims });
  const downstream = input.config.downstreams.find((candidate) => sameRepo(candidate.repo, claims.sub));
  if (downstream === undefined) {
    throw new RelayError(
      "caller-not-allowed",
      "The token's downstream is not in the relay config.",
      "downstream-not-configured",
    );
  }
  if (downstream.transport === "queue" && (await input.dispatchTransport(claims.jti)) === "queue") {
    if (!sameSecret(input.bearer, input.relayToken)) throw invalidToken("bearer-not-relay-token");
    return { claims, downstream, identity: null };
  }
  const identity = await input.oidc.verify(input.bearer, input.callbackAudience, input.config.ciProviders);
  input.onVerified?.({ claims, identity });
  const rejection = bindingRejection(identity, claims, downstream.callers);
  if (rejection !== null) throw invalidToken(rejection);
  return { claims, downstream, identity };
}

function sameSecret(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
