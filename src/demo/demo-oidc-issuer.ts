import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from "jose";

/**
 * A local OIDC issuer shaped like GitHub Actions' (discovery document and JWKS), so the demo's
 * downstream simulator can authenticate its callbacks as a real workflow run does. The relay
 * trusts it through OIDC_ISSUER; its key lives only in this process.
 */
export class DemoOidcIssuer {
  private server: Server | null = null;
  private key: { kid: string; privateKey: KeyLike; jwk: JWK } | null = null;
  url = "";

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const kid = randomUUID();
    this.key = { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://issuer").pathname;
      const body =
        path === "/.well-known/openid-configuration"
          ? {
              issuer: this.url,
              jwks_uri: `${this.url}/.well-known/jwks`,
              id_token_signing_alg_values_supported: ["RS256"],
              response_types_supported: ["id_token"],
              subject_types_supported: ["public", "pairwise"],
            }
          : path === "/.well-known/jwks"
            ? { keys: [this.key?.jwk] }
            : null;
      response.writeHead(body ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify(body ?? { message: "not found" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A token with the claims GitHub Actions gives a repository_dispatch run of `repository`. */
  async tokenFor(repository: string, audience: string, runId: number): Promise<string> {
    if (!this.key) throw new Error("the demo issuer is not started");
    const workflowRef = `${repository}/.github/workflows/relay.yml@refs/heads/main`;
    return new SignJWT({
      repository,
      repository_owner: repository.split("/")[0],
      repository_id: String(100_000 + repository.length),
      ref: "refs/heads/main",
      sha: "0".repeat(40),
      run_id: String(runId),
      run_attempt: "1",
      workflow: "relay",
      workflow_ref: workflowRef,
      job_workflow_ref: workflowRef,
      event_name: "repository_dispatch",
      runner_environment: "github-hosted",
    })
      .setProtectedHeader({ alg: "RS256", kid: this.key.kid, typ: "JWT" })
      .setIssuer(this.url)
      .setAudience(audience)
      .setSubject(`repo:${repository}:ref:refs/heads/main`)
      .setJti(randomUUID())
      .setIssuedAt()
      .setNotBefore("-60s")
      .setExpirationTime("5m")
      .sign(this.key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
