import { jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { createIssuerKeys } from "./issuer-keys";
import { invalidToken, tokenRejected } from "./token-rejection";

const CLOCK_SKEW_SECONDS = 60;
const MAX_TOKEN_AGE_SECONDS = 10 * 60;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** The GitHub Actions claims the relay reads; GitHub sends them all as strings. */
const identityClaimsSchema = z.object({
  repository: z.string().min(1),
  repository_id: z.string().optional(),
  repository_owner: z.string().optional(),
  workflow_ref: z.string().optional(),
  ref: z.string().optional(),
  event_name: z.string().optional(),
  run_id: z.string().optional(),
  run_attempt: z.string().optional(),
  jti: z.string().optional(),
  sub: z.string().min(1),
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
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          // Pinning RS256 refuses `none` and HS256-signed-with-the-public-key before any key is chosen.
          algorithms: ["RS256"],
          issuer: options.issuer,
          audience,
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ["exp", "iat", "repository"],
          currentDate,
        }));
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

/** `iat` bounds how long a leaked token is useful, whatever `exp` the issuer chose. */
export function tokenAgeRejection(iat: number, now: Date): string | null {
  const age = now.getTime() / 1000 - iat;
  if (age > MAX_TOKEN_AGE_SECONDS) return "token-too-old";
  if (age < -CLOCK_SKEW_SECONDS) return "token-issued-in-future";
  return null;
}
