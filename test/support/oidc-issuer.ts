import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type KeyLike } from "jose";

/**
 * A real OIDC issuer on 127.0.0.1, shaped like GitHub Actions' (token.actions.githubusercontent.com):
 * discovery document, JWKS, key rotation, and the Actions runtime token endpoint that
 * `ACTIONS_ID_TOKEN_REQUEST_URL` points at. Tests break one rule of a token at a time through `mint`.
 * With `baseClaims` it stands in for another CI system's issuer (`buildkiteClaims`: Buildkite's).
 */

export const DEFAULT_REPOSITORY = "octo-org/downstream";

/** How a token is forged instead of being signed by a published key. */
export type Forgery =
  /** signed by a key the issuer never published, under a published kid */
  | "other-key"
  /** signed by an unpublished key under a kid the JWKS does not hold */
  | "unknown-kid"
  | "alg-none"
  /** the classic confusion attack: HS256 keyed with the issuer's public key PEM */
  | "hs256-with-public-key";

export interface MintOptions {
  /** `aud`; default "ci-relay-callback" */
  audience?: string | string[];
  /** which published key signs (the first published under that kid); default the current signing key */
  kid?: string;
  forge?: Forgery;
  /** claims left out of the token */
  omit?: string[];
  /** the token's clock: `iat` is now, `nbf` now - 60 s, `exp` now + 5 min (as GitHub issues them) */
  now?: Date;
}

export interface ActionsRuntime {
  /** value for ACTIONS_ID_TOKEN_REQUEST_URL (already carries a query string, as GitHub's does) */
  requestUrl: string;
  /** value for ACTIONS_ID_TOKEN_REQUEST_TOKEN */
  requestToken: string;
}

export interface OidcIssuer {
  /** the issuer URL: `iss` of its tokens and base of its discovery document */
  readonly url: string;
  /** requests served, by kind; `total` counts every request, whatever its path */
  readonly requests: { discovery: number; jwks: number; runtimeToken: number; total: number };
  /** audiences asked for through the Actions runtime endpoint, in order */
  readonly runtimeAudiences: (string | null)[];
  readonly signingKid: string;
  /**
   * Publishes a new key; with `sign`, tokens are signed with it from now on. With `kid`, it is published
   * under that kid, beside any key already there (SPEC §4.1: several keys may share a kid). Returns its kid.
   */
  addKey(options?: { sign?: boolean; kid?: string }): Promise<string>;
  /** Withdraws every key under this kid from the JWKS. */
  removeKey(kid: string): void;
  /** A token with the issuer's base claims (GitHub Actions' by default); `claims` override or add claims (iss, aud, exp, nbf, iat too). */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Serves this raw text as the discovery document instead of the real one (null: the real one again). */
  overrideDiscovery(body: string | null): void;
  /** The Actions runtime endpoint, issuing tokens with these claims overrides. */
  actionsRuntime(claims?: Record<string, unknown>): ActionsRuntime;
  close(): Promise<void>;
}

interface IssuerKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
}

async function newKey(kid: string = randomUUID()): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, publicKey };
}

/** The claims GitHub Actions puts in an OIDC token for a repository_dispatch run. */
export function githubActionsClaims(repository = DEFAULT_REPOSITORY): Record<string, unknown> {
  const [owner] = repository.split("/");
  const workflowRef = `${repository}/.github/workflows/upstream.yml@refs/heads/main`;
  return {
    jti: randomUUID(),
    sub: `repo:${repository}:ref:refs/heads/main`,
    ref: "refs/heads/main",
    sha: "6f8b2c1e8d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    repository,
    repository_owner: owner,
    repository_owner_id: "1001",
    repository_id: "123456789",
    repository_visibility: "public",
    run_id: "4242",
    run_number: "7",
    run_attempt: "1",
    actor: "octocat",
    actor_id: "583231",
    workflow: "upstream",
    workflow_ref: workflowRef,
    workflow_sha: "6f8b2c1e8d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    job_workflow_ref: workflowRef,
    job_workflow_sha: "6f8b2c1e8d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    head_ref: "",
    base_ref: "",
    event_name: "repository_dispatch",
    ref_type: "branch",
    runner_environment: "github-hosted",
  };
}

export const BUILDKITE_ORGANIZATION_ID = "0b7e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4";
export const BUILDKITE_PIPELINE_ID = "4f1c2d3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f";

/** The claims Buildkite puts in `buildkite-agent oidc request-token` tokens (its docs' example, ids as UUIDs). */
export function buildkiteClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    organization_slug: "vllm",
    organization_id: BUILDKITE_ORGANIZATION_ID,
    pipeline_slug: "ci",
    pipeline_id: BUILDKITE_PIPELINE_ID,
    build_number: 1234,
    build_branch: "main",
    build_tag: null,
    build_commit: "6f8b2c1e8d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
    build_source: "api",
    step_key: "report",
    job_id: randomUUID(),
    agent_id: randomUUID(),
    runner_environment: "buildkite-hosted",
    ...overrides,
  };
  claims.sub ??= `organization:${String(claims.organization_slug)}:pipeline:${String(claims.pipeline_slug)}:ref:refs/heads/${String(claims.build_branch)}:commit:${String(claims.build_commit)}:step:${String(claims.step_key)}`;
  return claims;
}

export async function startOidcIssuer(
  options: { baseClaims?: () => Record<string, unknown> } = {},
): Promise<OidcIssuer> {
  const baseClaims = options.baseClaims ?? (() => githubActionsClaims());
  let published: IssuerKey[] = [await newKey()];
  let signing = published[0];
  // One unpublished key serves every forgery: generating RSA keys is the slow part of a test.
  const stranger = await newKey();
  let discoveryOverride: string | null = null;
  let runtimeClaims: Record<string, unknown> = {};
  const runtimeToken = randomUUID();
  const requests = { discovery: 0, jwks: 0, runtimeToken: 0, total: 0 };
  const runtimeAudiences: (string | null)[] = [];

  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { message: "issuer failed" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function keyOf(kid: string): IssuerKey {
    const key = published.find((candidate) => candidate.kid === kid);
    if (!key) throw new Error(`the test issuer has no key ${kid}`);
    return key;
  }

  async function mint(claims: Record<string, unknown> = {}, options: MintOptions = {}): Promise<string> {
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const payload: Record<string, unknown> = {
      ...baseClaims(),
      iss: url,
      aud: options.audience ?? "ci-relay-callback",
      iat,
      nbf: iat - 60,
      exp: iat + 300,
      ...claims,
    };
    for (const claim of options.omit ?? []) delete payload[claim];

    const signer = options.kid === undefined ? signing : keyOf(options.kid);
    const kid = signer.kid;
    switch (options.forge) {
      case "alg-none":
        return new UnsecuredJWT(payload).encode();
      case "hs256-with-public-key":
        return new SignJWT(payload)
          .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
          .sign(new TextEncoder().encode(await exportSPKI(signer.publicKey)));
      case "other-key":
      case "unknown-kid": {
        const header = { alg: "RS256", typ: "JWT", kid: options.forge === "other-key" ? kid : randomUUID() };
        return new SignJWT(payload).setProtectedHeader(header).sign(stranger.privateKey);
      }
      default:
        return new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid }).sign(signer.privateKey);
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    requests.total++;
    const { pathname, searchParams } = new URL(request.url ?? "/", url);
    if (pathname === "/.well-known/openid-configuration") {
      requests.discovery++;
      const document = {
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ["RS256"],
      };
      return sendText(response, 200, discoveryOverride ?? JSON.stringify(document));
    }
    if (pathname === "/.well-known/jwks") {
      requests.jwks++;
      const keys: JWK[] = [];
      for (const key of published)
        keys.push({ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: "RS256", use: "sig" });
      return send(response, 200, { keys });
    }
    if (pathname === "/_apis/token") {
      requests.runtimeToken++;
      if (request.headers.authorization?.toLowerCase() !== `bearer ${runtimeToken}`) {
        return send(response, 401, { message: "bad request token" });
      }
      const audience = searchParams.get("audience");
      runtimeAudiences.push(audience);
      const repository = String(runtimeClaims.repository ?? DEFAULT_REPOSITORY);
      const value = await mint(runtimeClaims, {
        audience: audience ?? `https://github.com/${repository.split("/")[0]}`,
      });
      return send(response, 200, { count: 1, value });
    }
    send(response, 404, { message: "not found" });
  }

  return {
    url,
    requests,
    runtimeAudiences,
    get signingKid() {
      return signing.kid;
    },
    async addKey({ sign = false, kid } = {}) {
      const key = await newKey(kid);
      published.push(key);
      if (sign) signing = key;
      return key.kid;
    },
    removeKey(kid) {
      published = published.filter((key) => key.kid !== kid);
    },
    mint,
    overrideDiscovery(body) {
      discoveryOverride = body;
    },
    actionsRuntime(claims = {}) {
      runtimeClaims = claims;
      return { requestUrl: `${url}/_apis/token?api-version=2.0`, requestToken: runtimeToken };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "application/json" }).end(text);
}
