/**
 * auth/ owns who a caller is: OIDC tokens verified against the CI providers' issuers (keys cached),
 * the relay token minted into a dispatch and checked on its callback, bearer extraction, the replay
 * guard, and the token rejections these answer with.
 */
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { z } from "zod";
import type { CiProvider } from "../config/types";
import { RelayError } from "../errors/failure-kinds";
import { isCanonicalCompactJwt } from "./canonical-jwt";
import { createIssuerKeys, type IssuerKeys } from "./issuer-keys";
import { resolveProviderCaller } from "./resolve-provider-caller";
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

/**
 * A `ci_providers` token's own claims the relay keeps; which downstream it is comes from its `repo_map`.
 * `sub` is required as for GitHub's: Buildkite, GitLab and CircleCI all send one.
 */
const providerClaimsSchema = identityClaimsSchema.pick({ sub: true, jti: true, iat: true, exp: true });

/**
 * A verified caller; `aud` is the audience it was verified for. For a `ci_providers` token,
 * `provider` is its issuer and `repository` the downstream its `repo_map` entry names (the GitHub
 * claims it lacks are absent); a GitHub Actions token has no `provider`.
 */
export type OidcIdentity = z.infer<typeof identityClaimsSchema> & { aud: string; provider?: string };

export interface OidcVerifierOptions {
  /** the trusted GitHub Actions issuer (`OIDC_ISSUER`), exactly as tokens carry it in `iss` */
  issuer: string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** bound on each issuer response (discovery document, JWKS); default 64 KiB */
  maxResponseBytes?: number;
}

export interface OidcVerifier {
  /**
   * Resolves the caller's identity or throws a RelayError: `token-invalid` for any fault of the token,
   * `caller-not-allowed` for a `providers` token no `repo_map` entry admits. Without `providers` only
   * GitHub Actions tokens are taken (the broker).
   */
  verify(token: string, audience: string, providers?: readonly CiProvider[]): Promise<OidcIdentity>;
}

/**
 * SPEC §4.1 / §6: one verifier (one key cache per issuer) for callbacks and the broker; each endpoint
 * passes its own audience, so a broker token never passes as a callback token or the other way round.
 * The token's `iss`, read before anything is verified, only picks among the trusted issuers: keys are
 * fetched for `OIDC_ISSUER` and configured providers alone, so a token cannot make the relay call out.
 */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const now = options.now ?? (() => new Date());
  // One entry per issuer ever trusted: the set is the config's, never the tokens'.
  const keysByIssuer = new Map<string, IssuerKeys>();
  const keysOf = (issuer: string): IssuerKeys => {
    let keys = keysByIssuer.get(issuer);
    if (keys === undefined) {
      keys = createIssuerKeys({
        issuer,
        fetch: options.fetch ?? fetch,
        now,
        maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      });
      keysByIssuer.set(issuer, keys);
    }
    return keys;
  };

  /** SPEC §4 step 1 for any trusted issuer: signature, `iss`, `aud`, `exp`/`nbf` with skew, `iat` age. */
  async function verifySigned(
    token: string,
    issuer: string,
    audience: string,
    requiredClaims: string[],
    currentDate: Date,
  ): Promise<JWTPayload> {
    let payload: JWTPayload;
    try {
      payload = await verifyWithIssuerKeys(token, keysOf(issuer), {
        // Pinning RS256 refuses `none` and HS256-signed-with-the-public-key before any key is chosen.
        algorithms: ["RS256"],
        issuer,
        audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp", "iat", ...requiredClaims],
        currentDate,
      });
    } catch (error) {
      throw tokenRejected(error);
    }
    // jose has checked that a present `iat` is a number; this says so to the compiler.
    if (typeof payload.iat !== "number") throw invalidToken("claims-invalid");
    const ageRejection = tokenAgeRejection(payload.iat, currentDate);
    if (ageRejection) throw invalidToken(ageRejection);
    return payload;
  }

  return {
    async verify(token, audience, providers = []) {
      const currentDate = now();
      if (!isCanonicalCompactJwt(token)) throw invalidToken("token-malformed");
      const issuer = unverifiedIssuer(token);
      if (issuer === options.issuer) {
        const parsed = identityClaimsSchema.safeParse(
          await verifySigned(token, issuer, audience, ["repository"], currentDate),
        );
        if (!parsed.success) throw invalidToken("claims-invalid");
        return { ...parsed.data, aud: audience };
      }
      const provider = providers.find((candidate) => candidate.issuer === issuer);
      if (provider === undefined) throw invalidToken("issuer-mismatch");
      const providerAudience = provider.audience ?? audience;
      const payload = await verifySigned(token, provider.issuer, providerAudience, ["sub"], currentDate);
      const parsed = providerClaimsSchema.safeParse(payload);
      if (!parsed.success) throw invalidToken("claims-invalid");
      const decision = resolveProviderCaller(provider.repoMap, payload);
      if ("rejection" in decision) {
        const which = decision.claim === undefined ? "" : ` (${decision.claim})`;
        throw new RelayError(
          "caller-not-allowed",
          `No ci_providers repo_map entry admits this caller${which}.`,
          decision.rejection,
        );
      }
      return { ...parsed.data, repository: decision.repo, aud: providerAudience, provider: provider.issuer };
    },
  };
}

/**
 * The token's `iss`, unverified: it only chooses which trusted issuer's keys to try, and is then
 * checked exactly by the verification itself. Undecodable payloads are malformed tokens.
 */
function unverifiedIssuer(token: string): string | undefined {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    throw invalidToken("token-malformed");
  }
  return typeof payload.iss === "string" ? payload.iss : undefined;
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
async function verifyWithAnyMatchingKey(
  token: string,
  keys: IssuerKeys,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
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
