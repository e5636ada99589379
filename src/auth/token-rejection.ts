import { errors } from "jose";
import { RelayError } from "../errors/failure-kinds";

/**
 * Turns any verification failure into the one answer clients see: `token-invalid`, with a
 * `degradedReason` naming the broken rule. The message is deliberately generic (octo-sts style):
 * jose errors can carry the decoded payload, and nothing of the token may reach a response or a log.
 * RelayErrors raised on the way (issuer unreachable, ...) pass through unchanged.
 */
export function tokenRejected(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return invalidToken(rejectionReason(error));
}

export function invalidToken(reason: string): RelayError {
  return new RelayError("token-invalid", `The bearer token was rejected (${reason}).`, reason);
}

const CLAIM_REASONS: Record<string, string> = {
  iss: "issuer-mismatch",
  aud: "audience-mismatch",
  nbf: "token-not-yet-valid",
};

function rejectionReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token-expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return "claims-missing";
    return CLAIM_REASONS[error.claim] ?? "claims-invalid";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature-invalid";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm-not-allowed";
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown-key";
  return "token-malformed";
}
