import { expect } from "@jest/globals";
import { createOidcVerifier, tokenAgeRejection, type OidcVerifier } from "../../../src/auth/oidc-verifier";
import type { CiProvider } from "../../../src/config/types";
import {
  BUILDKITE_ORGANIZATION_ID,
  BUILDKITE_PIPELINE_ID,
  buildkiteClaims,
  DEFAULT_REPOSITORY,
  startOidcIssuer,
  type OidcIssuer,
} from "../../support/oidc-issuer";
import { expectRejection } from "./expect-rejection";
import { respellings } from "../../support/respell-jwt";

const CALLBACK = "ci-relay-callback";
const BROKER = "ci-relay-broker";
const MINUTE_MS = 60_000;

describe("OIDC verifier against a local issuer", () => {
  let issuer: OidcIssuer;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    verifier = createOidcVerifier({ issuer: issuer.url });
  });
  afterAll(() => issuer.close());

  const ago = (ms: number) => Math.floor((Date.now() - ms) / 1000);

  test("a GitHub Actions token for the callback audience yields the caller's identity", async () => {
    const token = await issuer.mint();

    const identity = await verifier.verify(token, CALLBACK);

    expect(identity).toMatchObject({
      repository: DEFAULT_REPOSITORY,
      repository_id: "123456789",
      workflow_ref: `${DEFAULT_REPOSITORY}/.github/workflows/upstream.yml@refs/heads/main`,
      event_name: "repository_dispatch",
      run_id: "4242",
      run_attempt: "1",
      aud: CALLBACK,
    });
  });

  test("an aud array containing the audience is accepted", async () => {
    const token = await issuer.mint({}, { audience: ["https://github.com/octo-org", CALLBACK] });

    await expect(verifier.verify(token, CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
  });

  test("a broker token is refused where a callback token is expected", async () => {
    const token = await issuer.mint({}, { audience: BROKER });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "audience-mismatch", token);
    await expect(verifier.verify(token, BROKER)).resolves.toMatchObject({ aud: BROKER });
  });

  test("an aud array without the audience is refused", async () => {
    const token = await issuer.mint({}, { audience: [BROKER, "https://github.com/octo-org"] });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "audience-mismatch", token);
  });

  test("a token naming another issuer is refused", async () => {
    const token = await issuer.mint({ iss: "https://token.actions.githubusercontent.com" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "issuer-mismatch", token);
  });

  test("a token signed by another key under a published kid is refused", async () => {
    const token = await issuer.mint({}, { forge: "other-key" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "signature-invalid", token);
  });

  test("an unsigned (alg none) token is refused", async () => {
    const token = await issuer.mint({}, { forge: "alg-none" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "algorithm-not-allowed", token);
  });

  test("an HS256 token keyed with the issuer's public key is refused", async () => {
    const token = await issuer.mint({}, { forge: "hs256-with-public-key" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "algorithm-not-allowed", token);
  });

  test("an expired token is refused, but not within the 60 s clock skew", async () => {
    const expired = await issuer.mint({ exp: ago(2 * MINUTE_MS) });
    const justExpired = await issuer.mint({ exp: ago(30_000) });

    await expectRejection(verifier.verify(expired, CALLBACK), "token-invalid", "token-expired", expired);
    await expect(verifier.verify(justExpired, CALLBACK)).resolves.toMatchObject({ repository: DEFAULT_REPOSITORY });
  });

  test("a token not valid before a future nbf is refused", async () => {
    const token = await issuer.mint({ nbf: ago(-5 * MINUTE_MS) });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "token-not-yet-valid", token);
  });

  test("a token issued more than 10 minutes ago is refused even though it has not expired", async () => {
    const token = await issuer.mint({ iat: ago(11 * MINUTE_MS), nbf: ago(11 * MINUTE_MS) });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "token-too-old", token);
  });

  test("a token issued in the future beyond the skew is refused", async () => {
    const token = await issuer.mint({ iat: ago(-5 * MINUTE_MS) });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "token-issued-in-future", token);
  });

  test.each(["repository", "exp", "iat"])("a token without %s is refused", async (claim) => {
    const token = await issuer.mint({}, { omit: [claim] });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "claims-missing", token);
  });

  test("a repository claim that is not a string is refused", async () => {
    const token = await issuer.mint({ repository: 42 });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "claims-invalid", token);
  });

  test("a token spelled other than as it was signed is refused, each of its three segments", async () => {
    const token = await issuer.mint();
    await expect(verifier.verify(token, CALLBACK)).resolves.toMatchObject({ repository: DEFAULT_REPOSITORY });
    const variants = respellings(token);
    expect(variants.length).toBeGreaterThanOrEqual(7);
    for (const [, variant] of variants) {
      await expectRejection(verifier.verify(variant, CALLBACK), "token-invalid", "token-malformed");
    }
  });

  test.each([
    "jti",
    "sub",
    "repository",
    "repository_id",
    "repository_owner",
    "workflow_ref",
    "ref",
    "event_name",
    "run_id",
    "run_attempt",
  ])("a token with an empty %s is refused", async (claim) => {
    const token = await issuer.mint({ [claim]: "" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "claims-invalid", token);
  });

  test("text that is not a JWT is refused as malformed", async () => {
    await expectRejection(
      verifier.verify("definitely-not-a-jwt", CALLBACK),
      "token-invalid",
      "token-malformed",
      "definitely-not-a-jwt",
    );
  });

  test("keys are found through the configured issuer, never through the token's iss", async () => {
    const impostor = await startOidcIssuer();
    try {
      const token = await impostor.mint({ iss: issuer.url });

      await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "unknown-key", token);
      expect(impostor.requests).toMatchObject({ discovery: 0, jwks: 0 });
    } finally {
      await impostor.close();
    }
  });

  test("a token from the Actions runtime endpoint verifies for the audience it asked for", async () => {
    const runtime = issuer.actionsRuntime({ repository: "ascend/pytorch" });

    const response = await fetch(`${runtime.requestUrl}&audience=${CALLBACK}`, {
      headers: { authorization: `bearer ${runtime.requestToken}` },
    });
    const { value } = (await response.json()) as { value: string };

    await expect(verifier.verify(value, CALLBACK)).resolves.toMatchObject({ repository: "ascend/pytorch" });
    expect(issuer.runtimeAudiences).toContain(CALLBACK);
  });

  test("the Actions runtime endpoint refuses a wrong request token", async () => {
    const runtime = issuer.actionsRuntime();

    const response = await fetch(`${runtime.requestUrl}&audience=${CALLBACK}`, {
      headers: { authorization: "bearer nope" },
    });

    expect(response.status).toBe(401);
  });
});

describe("OIDC verifier discovery and key cache", () => {
  let issuer: OidcIssuer;
  let clock: number;
  let verifier: OidcVerifier;
  const at = () => ({ now: new Date(clock) });

  beforeEach(async () => {
    issuer = await startOidcIssuer();
    clock = Date.now();
    verifier = createOidcVerifier({ issuer: issuer.url, now: () => new Date(clock) });
  });
  afterEach(() => issuer.close());

  test("discovery and the key set are fetched once for many tokens", async () => {
    for (let i = 0; i < 3; i++) await verifier.verify(await issuer.mint({}, at()), CALLBACK);

    expect(issuer.requests).toMatchObject({ discovery: 1, jwks: 1 });
  });

  test("an unknown kid refetches the key set and is still refused", async () => {
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    clock += 31_000;
    const token = await issuer.mint({}, { ...at(), forge: "unknown-kid" });

    await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "unknown-key", token);
    expect(issuer.requests.jwks).toBe(2);
  });

  test("unknown kids within the 30 s cooldown do not refetch the key set", async () => {
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    clock += 10_000;

    for (let i = 0; i < 3; i++) {
      const token = await issuer.mint({}, { ...at(), forge: "unknown-kid" });
      await expectRejection(verifier.verify(token, CALLBACK), "token-invalid", "unknown-key", token);
    }
    expect(issuer.requests.jwks).toBe(1);
  });

  test("after a key rotation the new kid is accepted once the key set is refetched", async () => {
    const oldKid = issuer.signingKid;
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    const newKid = await issuer.addKey({ sign: true });
    clock += 31_000;

    await expect(verifier.verify(await issuer.mint({}, at()), CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    await expect(verifier.verify(await issuer.mint({}, { ...at(), kid: oldKid }), CALLBACK)).resolves.toMatchObject({
      aud: CALLBACK,
    });
    expect(issuer.requests.jwks).toBe(2);
    expect(newKid).not.toBe(oldKid);
  });

  test("two keys under one kid: a token signed by either verifies (SPEC §4.1)", async () => {
    const sharedKid = issuer.signingKid;
    await issuer.addKey({ kid: sharedKid, sign: true });

    const byNewKey = await issuer.mint({}, at());
    const byFirstKey = await issuer.mint({}, { ...at(), kid: sharedKid });
    expect(byNewKey.split(".")[0]).toBe(byFirstKey.split(".")[0]); // the same header: alg and kid

    await expect(verifier.verify(byNewKey, CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    await expect(verifier.verify(byFirstKey, CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    expect(issuer.requests.jwks).toBe(1);
  });

  test("two keys under one kid: a token signed by neither is refused, a bad claim is still named", async () => {
    const sharedKid = issuer.signingKid;
    await issuer.addKey({ kid: sharedKid });

    const forged = await issuer.mint({}, { ...at(), forge: "other-key" });
    await expectRejection(verifier.verify(forged, CALLBACK), "token-invalid", "signature-invalid", forged);
    const expired = await issuer.mint({}, { now: new Date(clock - 20 * MINUTE_MS) });
    await expectRejection(verifier.verify(expired, CALLBACK), "token-invalid", "token-expired", expired);
    const elsewhere = await issuer.mint({}, { ...at(), audience: BROKER });
    await expectRejection(verifier.verify(elsewhere, CALLBACK), "token-invalid", "audience-mismatch", elsewhere);
  });

  test("a key published later under a cached kid verifies once the 30 s cooldown has passed", async () => {
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    await issuer.addKey({ kid: issuer.signingKid, sign: true });
    clock += 10_000;
    const tooSoon = await issuer.mint({}, at());
    await expectRejection(verifier.verify(tooSoon, CALLBACK), "token-invalid", "signature-invalid", tooSoon);
    expect(issuer.requests.jwks).toBe(1);

    clock += 21_000;
    await expect(verifier.verify(await issuer.mint({}, at()), CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    expect(issuer.requests.jwks).toBe(2);
  });

  test("forged signatures under a known kid refetch the key set at most once per cooldown", async () => {
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    clock += 31_000;
    for (let i = 0; i < 3; i++) {
      const forged = await issuer.mint({}, { ...at(), forge: "other-key" });
      await expectRejection(verifier.verify(forged, CALLBACK), "token-invalid", "signature-invalid", forged);
    }
    expect(issuer.requests.jwks).toBe(2);
  });

  test("a forged signature while the issuer is down is still signature-invalid, not an outage", async () => {
    let down = false;
    const flaky: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError("fetch failed")) : fetch(input, init);
    const resilient = createOidcVerifier({ issuer: issuer.url, fetch: flaky, now: () => new Date(clock) });
    await resilient.verify(await issuer.mint({}, at()), CALLBACK);
    down = true;
    clock += 31_000;

    const forged = await issuer.mint({}, { ...at(), forge: "other-key" });
    await expectRejection(resilient.verify(forged, CALLBACK), "token-invalid", "signature-invalid", forged);
    await expect(resilient.verify(await issuer.mint({}, at()), CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
  });

  test("a withdrawn key stops verifying once the cached key set is older than 10 minutes", async () => {
    const oldKid = issuer.signingKid;
    await verifier.verify(await issuer.mint({}, at()), CALLBACK);
    const later = { now: new Date(clock + 11 * MINUTE_MS) };
    const oldKeyToken = await issuer.mint({}, { ...later, kid: oldKid });
    const newKeyToken = await issuer.mint({}, { ...later, kid: await issuer.addKey({ sign: true }) });
    issuer.removeKey(oldKid);
    clock = later.now.getTime();

    await expectRejection(verifier.verify(oldKeyToken, CALLBACK), "token-invalid", "unknown-key", oldKeyToken);
    await expect(verifier.verify(newKeyToken, CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    expect(issuer.requests.jwks).toBe(2);
  });

  test("while the issuer is down, the last good keys keep verifying for a day, then the outage shows", async () => {
    let down = false;
    const flaky: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError("fetch failed")) : fetch(input, init);
    const resilient = createOidcVerifier({ issuer: issuer.url, fetch: flaky, now: () => new Date(clock) });
    await resilient.verify(await issuer.mint({}, at()), CALLBACK);
    down = true;

    clock += 11 * MINUTE_MS;
    await expect(resilient.verify(await issuer.mint({}, at()), CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    clock += 25 * 60 * MINUTE_MS;
    const late = await issuer.mint({}, at());
    await expectRejection(resilient.verify(late, CALLBACK), "upstream-invalid-response", "issuer-unreachable", late);
  });

  test("a discovery document naming another issuer is refused", async () => {
    issuer.overrideDiscovery(
      JSON.stringify({
        issuer: "https://token.actions.githubusercontent.com",
        jwks_uri: `${issuer.url}/.well-known/jwks`,
      }),
    );
    const token = await issuer.mint({}, at());

    await expectRejection(verifier.verify(token, CALLBACK), "auth-not-configured", "issuer-discovery-mismatch", token);
    expect(issuer.requests.jwks).toBe(0);
  });

  test("an oversized discovery document is refused", async () => {
    const padded = { issuer: issuer.url, jwks_uri: `${issuer.url}/.well-known/jwks`, padding: "x".repeat(70 * 1024) };
    issuer.overrideDiscovery(JSON.stringify(padded));
    const token = await issuer.mint({}, at());

    await expectRejection(
      verifier.verify(token, CALLBACK),
      "upstream-invalid-response",
      "issuer-invalid-response",
      token,
    );
    expect(issuer.requests.jwks).toBe(0);
  });

  test("a discovery document that is not JSON is refused, and discovery is retried on the next token", async () => {
    issuer.overrideDiscovery("<html>maintenance</html>");
    const token = await issuer.mint({}, at());

    await expectRejection(
      verifier.verify(token, CALLBACK),
      "upstream-invalid-response",
      "issuer-invalid-response",
      token,
    );
    issuer.overrideDiscovery(null);
    await expect(verifier.verify(token, CALLBACK)).resolves.toMatchObject({ aud: CALLBACK });
    expect(issuer.requests.discovery).toBe(2);
  });

  test("an unreachable issuer is a retryable upstream failure, not a bad token", async () => {
    // Port 1 (tcpmux) is not served here: the connection is refused.
    const unreachable = "http://127.0.0.1:1";
    const token = await issuer.mint({ iss: unreachable }, at());

    const pending = createOidcVerifier({ issuer: unreachable }).verify(token, CALLBACK);

    await expectRejection(pending, "upstream-invalid-response", "issuer-unreachable", token);
  });
});

describe("OIDC verifier with ci_providers issuers", () => {
  let github: OidcIssuer;
  let buildkite: OidcIssuer;
  let verifier: OidcVerifier;
  let providers: CiProvider[];

  beforeAll(async () => {
    [github, buildkite] = await Promise.all([
      startOidcIssuer(),
      startOidcIssuer({ baseClaims: () => buildkiteClaims() }),
    ]);
    verifier = createOidcVerifier({ issuer: github.url });
    providers = [
      {
        issuer: buildkite.url,
        repoMap: [
          {
            claims: { organization_id: BUILDKITE_ORGANIZATION_ID, pipeline_id: BUILDKITE_PIPELINE_ID },
            repo: "vllm-project/vllm",
            requiredClaims: { build_branch: ["main"] },
          },
        ],
      },
    ];
  });
  afterAll(() => Promise.all([github.close(), buildkite.close()]));

  test("a mapped pipeline's token is the mapped downstream, marked with its issuer", async () => {
    const token = await buildkite.mint();

    await expect(verifier.verify(token, CALLBACK, providers)).resolves.toEqual(
      expect.objectContaining({
        repository: "vllm-project/vllm",
        provider: buildkite.url,
        aud: CALLBACK,
        sub: expect.stringContaining("pipeline:ci"),
      }),
    );
  });

  test("a provider's own audience replaces the callback audience", async () => {
    const own = [{ ...providers[0], audience: "vllm-relay" }];

    await expect(
      verifier.verify(await buildkite.mint({}, { audience: "vllm-relay" }), CALLBACK, own),
    ).resolves.toMatchObject({ aud: "vllm-relay" });
    const token = await buildkite.mint();
    await expectRejection(verifier.verify(token, CALLBACK, own), "token-invalid", "audience-mismatch", token);
  });

  test("an unmapped pipeline, a slug under another UUID and an unmet required claim are caller-not-allowed", async () => {
    const unmapped = await buildkite.mint({ pipeline_id: "11111111-2222-4333-8444-555555555555" });
    const sameSlugs = await buildkite.mint({
      pipeline_id: "33333333-4444-4555-8666-777777777777",
      pipeline_slug: "ci",
      organization_slug: "vllm",
    });
    const fork = await buildkite.mint({ build_branch: "contributor:main" });

    await expectRejection(
      verifier.verify(unmapped, CALLBACK, providers),
      "caller-not-allowed",
      "provider-caller-not-mapped",
      unmapped,
    );
    await expectRejection(
      verifier.verify(sameSlugs, CALLBACK, providers),
      "caller-not-allowed",
      "provider-caller-not-mapped",
      sameSlugs,
    );
    await expectRejection(
      verifier.verify(fork, CALLBACK, providers),
      "caller-not-allowed",
      "required-claim-mismatch",
      fork,
    );
  });

  test("every rule of step 1 holds for a provider token before its mapping is looked at", async () => {
    const ago = (ms: number) => Math.floor((Date.now() - ms) / 1000);
    const forged = await buildkite.mint({}, { forge: "other-key" });
    const old = await buildkite.mint({ iat: ago(11 * MINUTE_MS), nbf: ago(11 * MINUTE_MS) });
    const expired = await buildkite.mint({ exp: ago(2 * MINUTE_MS) });
    const unsigned = await buildkite.mint({}, { forge: "alg-none" });
    const noSub = await buildkite.mint({}, { omit: ["sub"] });
    const wrongAud = await buildkite.mint({}, { audience: BROKER });

    await expectRejection(verifier.verify(forged, CALLBACK, providers), "token-invalid", "signature-invalid", forged);
    await expectRejection(verifier.verify(old, CALLBACK, providers), "token-invalid", "token-too-old", old);
    await expectRejection(verifier.verify(expired, CALLBACK, providers), "token-invalid", "token-expired", expired);
    await expectRejection(
      verifier.verify(unsigned, CALLBACK, providers),
      "token-invalid",
      "algorithm-not-allowed",
      unsigned,
    );
    await expectRejection(verifier.verify(noSub, CALLBACK, providers), "token-invalid", "claims-missing", noSub);
    await expectRejection(
      verifier.verify(wrongAud, CALLBACK, providers),
      "token-invalid",
      "audience-mismatch",
      wrongAud,
    );
  });

  test("a provider token needs no repository claim, but one it carries names nothing", async () => {
    const token = await buildkite.mint({ repository: "pytorch/pytorch" });

    await expect(verifier.verify(token, CALLBACK, providers)).resolves.toMatchObject({
      repository: "vllm-project/vllm",
    });
  });

  test("without providers (the broker) a provider token is refused and its issuer never asked", async () => {
    const fresh = await startOidcIssuer({ baseClaims: () => buildkiteClaims() });
    try {
      const token = await fresh.mint();

      await expectRejection(verifier.verify(token, BROKER), "token-invalid", "issuer-mismatch", token);
      expect(fresh.requests.total).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  test("a token whose iss is in no list is refused without a request to it, nor to the trusted issuers", async () => {
    const unknown = await startOidcIssuer({ baseClaims: () => buildkiteClaims() });
    const before = { github: github.requests.total, buildkite: buildkite.requests.total };
    try {
      const token = await unknown.mint();

      await expectRejection(verifier.verify(token, CALLBACK, providers), "token-invalid", "issuer-mismatch", token);
      expect(unknown.requests.total).toBe(0);
      expect({ github: github.requests.total, buildkite: buildkite.requests.total }).toEqual(before);
    } finally {
      await unknown.close();
    }
  });

  test("GitHub Actions tokens still verify beside providers, and keep their own rules", async () => {
    await expect(verifier.verify(await github.mint(), CALLBACK, providers)).resolves.toMatchObject({
      repository: DEFAULT_REPOSITORY,
    });
    const identity = await verifier.verify(await github.mint(), CALLBACK, providers);
    expect(identity.provider).toBeUndefined();
    const noRepository = await github.mint({}, { omit: ["repository"] });
    await expectRejection(
      verifier.verify(noRepository, CALLBACK, providers),
      "token-invalid",
      "claims-missing",
      noRepository,
    );
  });

  test("a provider token signed by the GitHub issuer's key is refused: each issuer has its own keys", async () => {
    const token = await github.mint({ ...buildkiteClaims(), iss: buildkite.url });

    await expectRejection(verifier.verify(token, CALLBACK, providers), "token-invalid", "unknown-key", token);
  });
});

describe("token age rule", () => {
  const now = new Date("2025-03-01T12:00:00Z");
  const seconds = now.getTime() / 1000;

  test.each([
    [seconds, null],
    [seconds - 600, null],
    [seconds - 601, "token-too-old"],
    [seconds + 60, null],
    [seconds + 61, "token-issued-in-future"],
  ])("iat %d is judged %s", (iat, expected) => {
    expect(tokenAgeRejection(iat, now)).toBe(expected);
  });
});
