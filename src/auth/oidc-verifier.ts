import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { z } from "zod";
import { isCanonicalCompactJwt } from "./canonical-jwt";
import { createIssuerKeys, type IssuerKeys } from "./issuer-keys";
import { invalidToken, tokenRejected } from "./token-rejection";

const CLOCK_SKEW_SECONDS = 60;
const MAX_TOKEN_AGE_SECONDS = 10 * 60;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A claim the relay reads is never empty: an empty `jti` would be "accepted once" as the empty string,
 * an empty `ref` or `workflow_ref` compared against pins. GitHub sends none of them empty.
 */
const claim = z.string().min(1);

/** The GitHub Actions claims the relay reads; GitHub sends them all as strings. */
const identityClaimsSchema = z.object({
  repository: claim,
  repository_id: claim.optional(),
  repository_owner: claim.optional(),
  workflow_ref: claim.optional(),
  ref: claim.optional(),
  event_name: claim.optional(),
  run_id: claim.optional(),
  run_attempt: claim.optional(),
  jti: claim.optional(),
  sub: claim,
  iat: z.number(),
  exp: z.number(),
});

/** A verified caller; `aud` is the audience it was verified for. */
export type OidcIdentity = z.infer<typeof identityClaimsSchema> & { aud: string };

export interface OidcVerifierOptions {
  /** the trusted issuer, exactly as tokens carry it in `iss` */
  issuer: string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** bound on each issuer response (discovery document, JWKS); default 64 KiB */
  maxResponseBytes?: number;
}

export interface OidcVerifier {
  /** Resolves the caller's identity or throws a RelayError (`token-invalid` for any fault of the token). */
  verify(token: string, audience: string): Promise<OidcIdentity>;
}

/**
 * SPEC §4.1 / §6: one verifier (one key cache) for callbacks and the broker; each endpoint passes
 * its own audience, so a broker token never passes as a callback token or the other way round.
 */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const now = options.now ?? (() => new Date());
  const keys = createIssuerKeys({
    issuer: options.issuer,
    fetch: options.fetch ?? fetch,
    now,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  });

  return {
    async verify(token, audience) {
      const currentDate = now();
      if (!isCanonicalCompactJwt(token)) throw invalidToken("token-malformed");
      let payload: JWTPayload;
      try {
        payload = await verifyWithIssuerKeys(token, keys, {
          // Pinning RS256 refuses `none` and HS256-signed-with-the-public-key before any key is chosen.
          algorithms: ["RS256"],
          issuer: options.issuer,
          audience,
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ["exp", "iat", "repository"],
          currentDate,
        });
      } catch (error) {
        throw tokenRejected(error);
      }
      const parsed = identityClaimsSchema.safeParse(payload);
      if (!parsed.success) throw invalidToken("claims-invalid");
      const ageRejection = tokenAgeRejection(parsed.data.iat, currentDate);
      if (ageRejection) throw invalidToken(ageRejection);
      return { ...parsed.data, aud: audience };
    },
  };
}

/**
 * SPEC §4.1: when several published keys share the token's `kid` (an issuer rotating a key in under the
 * same id), any of them may verify it. A signature none of the cached keys verifies may be by a key
 * published since under a kid the cache knows: the keys are refetched (rate-limited) and tried again.
 */
async function verifyWithIssuerKeys(token: string, keys: IssuerKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return await verifyWithAnyMatchingKey(token, keys, options);
  } catch (error) {
    if (!(error instanceof errors.JWSSignatureVerificationFailed) || !(await keys.refetchAfterMismatch())) throw error;
    return verifyWithAnyMatchingKey(token, keys, options);
  }
}

/**
 * jose's key set refuses the ambiguity of several keys under one kid and hands the candidates over on
 * its error; only a signature mismatch moves on to the next, any other failure is the token's own.
 */
async function verifyWithAnyMatchingKey(token: string, keys: IssuerKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys.resolve, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (keyError) {
        if (!(keyError instanceof errors.JWSSignatureVerificationFailed)) throw keyError;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** `iat` bounds how long a leaked token is useful, whatever `exp` the issuer chose. */
export function tokenAgeRejection(iat: number, now: Date): string | null {
  const age = now.getTime() / 1000 - iat;
  if (age > MAX_TOKEN_AGE_SECONDS) return "token-too-old";
  if (age < -CLOCK_SKEW_SECONDS) return "token-issued-in-future";
  return null;
}
