import type { OidcIdentity, OidcVerifier } from "../../../src/auth/oidc-verifier";
import { authenticateReport } from "../../../src/callback/authenticate-report";
import { downstream, relayConfig } from "../../support/relay-config";

const config = relayConfig({
  downstreams: [
    downstream({ repo: "Vendor/Backend", level: "L2" }),
    downstream({ repo: "quiet/observer", level: "L1" }),
    downstream({ repo: "Nightly/Only", level: "L4", events: [] }),
    downstream({
      repo: "pinned/nightly",
      callers: { repositoryId: "42", workflowRef: "pinned/nightly/.github/workflows/nightly.yml@refs/heads/main" },
    }),
  ],
});

/** A verifier that accepts any bearer as the identity given, recording the audience it was asked for. */
function verifierOf(identity: Partial<OidcIdentity>): OidcVerifier & { audiences: string[] } {
  const audiences: string[] = [];
  return {
    audiences,
    verify: async (_token, audience) => {
      audiences.push(audience);
      return { repository: "x/y", sub: "repo:x/y", iat: 0, exp: 0, aud: audience, ...identity };
    },
  };
}

const authenticate = (identity: Partial<OidcIdentity>) =>
  authenticateReport({ bearer: "t", config, oidc: verifierOf(identity), callbackAudience: "ci-relay-callback" });

describe("authenticateReport (nightly and periodic reports: the OIDC identity alone)", () => {
  it("names the configured downstream the token's repository is, in any letter case, nightly-only and L1 included", async () => {
    await expect(authenticate({ repository: "vendor/backend" })).resolves.toMatchObject({
      downstream: { repo: "Vendor/Backend", level: "L2" },
    });
    await expect(authenticate({ repository: "nightly/only" })).resolves.toMatchObject({
      downstream: { repo: "Nightly/Only", events: [] },
    });
    await expect(authenticate({ repository: "quiet/observer" })).resolves.toMatchObject({
      downstream: { level: "L1" },
    });
  });

  it("verifies with the callback audience and tells the identity before any refusal", async () => {
    const oidc = verifierOf({ repository: "stranger/repo" });
    const seen: string[] = [];
    await expect(
      authenticateReport({
        bearer: "t",
        config,
        oidc,
        callbackAudience: "ci-relay-callback",
        onVerified: (identity) => seen.push(identity.repository),
      }),
    ).rejects.toMatchObject({ kind: "caller-not-allowed", degradedReason: "downstream-not-configured" });
    expect(oidc.audiences).toEqual(["ci-relay-callback"]);
    expect(seen).toEqual(["stranger/repo"]);
  });

  it("applies the downstream's pins", async () => {
    const ref = "pinned/nightly/.github/workflows/nightly.yml@refs/heads/main";
    await expect(
      authenticate({ repository: "pinned/nightly", repository_id: "42", workflow_ref: ref }),
    ).resolves.toMatchObject({ downstream: { repo: "pinned/nightly" } });
    await expect(
      authenticate({ repository: "pinned/nightly", repository_id: "43", workflow_ref: ref }),
    ).rejects.toMatchObject({ kind: "token-invalid", degradedReason: "repository-id-mismatch" });
    await expect(authenticate({ repository: "pinned/nightly", repository_id: "42" })).rejects.toMatchObject({
      kind: "token-invalid",
      degradedReason: "workflow-ref-mismatch",
    });
  });

  it("passes the verifier's refusal through unchanged", async () => {
    const oidc: OidcVerifier = {
      verify: async () => {
        throw Object.assign(new Error("bad"), { kind: "token-invalid" });
      },
    };
    await expect(authenticateReport({ bearer: "t", config, oidc, callbackAudience: "a" })).rejects.toMatchObject({
      kind: "token-invalid",
    });
  });
});
