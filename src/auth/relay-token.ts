import { SignJWT, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { LEVELS } from "../vocabulary/levels";
import { RelayError } from "../errors/failure-kinds";
import { isCanonicalCompactJwt } from "./canonical-jwt";
import { invalidToken, tokenRejected } from "./token-rejection";

/**
 * SPEC §4.2: the per-dispatch callback token. Minted when a dispatch is sent and carried only inside
 * that dispatch (or queue job request), it proves a callback belongs to a dispatch the relay made,
 * and to which downstream it was sent.
 */
const ISSUER = "ci-relay";
const AUDIENCE = "ci-relay-callback";
const LIFETIME_SECONDS = 3 * 24 * 60 * 60;
const CLOCK_SKEW_SECONDS = 60;

const relayTokenClaimsSchema = z.object({
  iss: z.literal(ISSUER),
  aud: z.literal(AUDIENCE),
  /** downstream owner/repo, lower case */
  sub: z.string().regex(/^[a-z0-9_.-]+\/[a-z0-9_.-]+$/),
  /** the dispatch request_id */
  jti: z.string().min(1),
  /** upstream owner/repo */
  upstream: z.string().min(1),
  sha: z.string().min(1),
  pr: z.int().positive().nullable(),
  level: z.enum(LEVELS),
  /** the upstream X-GitHub-Delivery */
  delivery: z.string().min(1),
  iat: z.int(),
  exp: z.int(),
});

export type RelayTokenClaims = z.infer<typeof relayTokenClaimsSchema>;
export type RelayTokenSubject = Omit<RelayTokenClaims, "iss" | "aud" | "iat" | "exp">;

const encoder = new TextEncoder();

/** Signs with the first secret: during a rotation the newest secret leads the list. */
export async function mintRelayToken(
  subject: RelayTokenSubject,
  secrets: readonly string[],
  now: Date = new Date(),
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const { sub, jti, ...claims } = subject;
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub.toLowerCase())
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LIFETIME_SECONDS)
    .sign(encoder.encode(requireSecrets(secrets)[0]));
}

/** How many verified tokens are remembered per secrets list; the oldest is forgotten first. */
const VERIFIED_TOKENS_KEPT = 1024;

/**
 * Every job of a dispatch calls back with the dispatch's one token, once per state it reaches: a
 * token verified once is remembered by its exact text, per list of secrets that verified it (the
 * relay's configured list, one per process), and its next use checks only that it has not expired
 * since. A token not remembered, expired or otherwise, is verified in full, so it fails exactly as
 * it would have the first time.
 */
const verifiedTokens = new WeakMap<readonly string[], Map<string, Readonly<RelayTokenClaims>>>();

/** Any configured secret verifies, so tokens minted before a rotation stay valid until they expire. */
export async function verifyRelayToken(
  token: string,
  secrets: readonly string[],
  now: Date = new Date(),
): Promise<RelayTokenClaims> {
  const usableSecrets = requireSecrets(secrets);
  let verified = verifiedTokens.get(usableSecrets);
  const remembered = verified?.get(token);
  // jose's own expiry rule (an `exp` at or before now, less the skew, is expired), on whole seconds.
  if (remembered && remembered.exp > Math.floor(now.getTime() / 1000) - CLOCK_SKEW_SECONDS) return remembered;
  if (!isCanonicalCompactJwt(token)) throw invalidToken("token-malformed");
  const payload = await verifyWithAnySecret(token, usableSecrets, now);
  const parsed = relayTokenClaimsSchema.safeParse(payload);
  if (!parsed.success) throw invalidToken("claims-invalid");
  // Claims that could make a verified token invalid later other than `exp` are never minted.
  if (payload.nbf === undefined) {
    if (verified === undefined)
      verifiedTokens.set(usableSecrets, (verified = new Map<string, Readonly<RelayTokenClaims>>()));
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value as string);
    verified.set(token, Object.freeze(parsed.data));
  }
  return parsed.data;
}

async function verifyWithAnySecret(token: string, secrets: readonly string[], now: Date): Promise<JWTPayload> {
  let failure: unknown;
  for (const secret of secrets) {
    try {
      const { payload } = await jwtVerify(token, encoder.encode(secret), {
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["sub", "jti", "iat", "exp"],
        currentDate: now,
      });
      return payload;
    } catch (error) {
      failure = error;
      // Only a signature mismatch can be cured by another secret; any other failure is final.
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw tokenRejected(failure);
}

function requireSecrets(secrets: readonly string[]): readonly string[] {
  if (secrets.length === 0 || secrets.some((secret) => secret.length === 0)) {
    throw new RelayError("auth-not-configured", "No relay token secret is configured.", "relay-token-secret-missing");
  }
  return secrets;
}
