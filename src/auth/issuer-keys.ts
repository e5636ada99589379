import { createLocalJWKSet, errors, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { RelayError } from "../errors/failure-kinds";
import { fetchIssuerJson, issuerFailure } from "./fetch-issuer-json";

/** Keys older than this are refetched before use, so a key the issuer withdrew stops verifying. */
const MAX_AGE_MS = 10 * 60 * 1000;
/** An unknown `kid` refetches at most this often: a flood of forged kids must not become a flood of fetches. */
const REFETCH_COOLDOWN_MS = 30 * 1000;
/**
 * While the issuer is unreachable, the last good keys keep verifying this long (and a refresh is
 * tried at most every cooldown), so an issuer outage does not turn every callback into a 502.
 */
const STALE_GRACE_MS = 24 * 60 * 60 * 1000;

const discoverySchema = z.looseObject({ issuer: z.string(), jwks_uri: z.url({ protocol: /^https?$/ }) });
const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) });

export interface IssuerKeysOptions {
  issuer: string;
  fetch: typeof fetch;
  now: () => Date;
  /** bound on each issuer response: the discovery document and the JWKS */
  maxResponseBytes: number;
}

interface KeySet {
  resolve: JWTVerifyGetKey;
  fetchedAt: number;
}

export interface IssuerKeys {
  /** the key (or, under a shared kid, the candidate keys) for a token's header */
  resolve: JWTVerifyGetKey;
  /**
   * After no cached key verified a signature: the issuer may have published another key under a kid
   * the cache already holds (SPEC §4.1), so the set is refetched, at most once per cooldown. True when
   * fresh keys are there to try again; an issuer that cannot be reached leaves the refusal as it is.
   */
  refetchAfterMismatch(): Promise<boolean>;
}

/**
 * The issuer's signing keys as a jose key resolver. The JWKS location comes from the configured
 * issuer's discovery document (fetched once), never from the token, whose `iss` is untrusted input.
 * jose's createRemoteJWKSet would do the caching too, but it fetches with its own client, which
 * cannot be pointed at a test issuer through `fetch` nor bounded in size.
 */
export function createIssuerKeys(options: IssuerKeysOptions): IssuerKeys {
  const { issuer, now, maxResponseBytes } = options;
  let jwksUri: Promise<string> | undefined;
  let keySet: KeySet | undefined;
  let refreshing: Promise<KeySet> | undefined;
  let lastFailedRefreshAt = Number.NEGATIVE_INFINITY;

  const getJson = (url: string) => fetchIssuerJson(options.fetch, url, maxResponseBytes);

  async function discoverJwksUri(): Promise<string> {
    const parsed = discoverySchema.safeParse(
      await getJson(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`),
    );
    if (!parsed.success) throw issuerFailure("issuer-invalid-response", "sent an unusable discovery document");
    // OIDC Discovery §4.3: a document naming another issuer is not this issuer's, whatever it says.
    if (parsed.data.issuer !== issuer) {
      throw new RelayError(
        "auth-not-configured",
        "The OIDC issuer's discovery document names a different issuer than the one configured.",
        "issuer-discovery-mismatch",
      );
    }
    return parsed.data.jwks_uri;
  }

  async function fetchKeySet(): Promise<KeySet> {
    jwksUri ??= discoverJwksUri().catch((error: unknown) => {
      jwksUri = undefined; // a failed discovery is retried on the next token
      throw error;
    });
    const parsed = jwksSchema.safeParse(await getJson(await jwksUri));
    if (!parsed.success) throw issuerFailure("issuer-invalid-response", "sent an unusable key set");
    return { resolve: createLocalJWKSet(parsed.data), fetchedAt: now().getTime() };
  }

  /** Concurrent verifications share one fetch. */
  function refresh(): Promise<KeySet> {
    refreshing ??= fetchKeySet()
      .then((fresh) => (keySet = fresh))
      .catch((error: unknown) => {
        lastFailedRefreshAt = now().getTime();
        throw error;
      })
      .finally(() => (refreshing = undefined));
    return refreshing;
  }

  /** Fresh keys, or the last good ones while the issuer cannot be reached (within the grace). */
  async function currentKeys(): Promise<KeySet> {
    const at = now().getTime();
    if (keySet && at - keySet.fetchedAt < MAX_AGE_MS) return keySet;
    const usableStale = keySet && at - keySet.fetchedAt < STALE_GRACE_MS ? keySet : undefined;
    if (usableStale && at - lastFailedRefreshAt < REFETCH_COOLDOWN_MS) return usableStale;
    try {
      return await refresh();
    } catch (error) {
      // An issuer that answered with another issuer's discovery document is misconfigured, not down.
      if (usableStale && !(error instanceof RelayError && error.kind === "auth-not-configured")) return usableStale;
      throw error;
    }
  }

  const mayRefetch = (fetchedAt: number) => {
    const at = now().getTime();
    return at - fetchedAt >= REFETCH_COOLDOWN_MS && at - lastFailedRefreshAt >= REFETCH_COOLDOWN_MS;
  };

  return {
    async resolve(header, token) {
      const current = await currentKeys();
      try {
        return await current.resolve(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || !mayRefetch(current.fetchedAt)) throw error;
        return (await refresh()).resolve(header, token);
      }
    },
    async refetchAfterMismatch() {
      if (!keySet || !mayRefetch(keySet.fetchedAt)) return false;
      return refresh().then(
        () => true,
        () => false,
      );
    },
  };
}
