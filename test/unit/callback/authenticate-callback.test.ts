import type { OidcVerifier } from "../../../src/auth/oidc-verifier";
import { mintRelayToken } from "../../../src/auth/relay-token";
import { authenticateCallback } from "../../../src/callback/authenticate-callback";
import type { Transport } from "../../../src/config/types";
import { RelayError } from "../../../src/errors/failure-kinds";
import { downstream, relayConfig } from "../../support/relay-config";

const SECRETS = ["authenticate-callback-test-secret-0123456789"];
const config = relayConfig({ downstreams: [downstream({ repo: "farm/gate", level: "L4", transport: "queue" })] });
const refusingOidc: OidcVerifier = {
  verify: async () => {
    throw new RelayError("token-invalid", "not an OIDC token", "token-malformed");
  },
};

async function authenticate(recorded: Transport | null) {
  const token = await mintRelayToken(
    {
      sub: "farm/gate",
      jti: "req-1",
      upstream: "pytorch/pytorch",
      sha: "a".repeat(40),
      pr: 1,
      level: "L4",
      delivery: "d-1",
    },
    SECRETS,
  );
  return authenticateCallback({
    bearer: token,
    relayToken: token,
    config,
    oidc: refusingOidc,
    callbackAudience: "ci-relay-callback",
    relayTokenSecrets: SECRETS,
    dispatchTransport: async () => recorded,
  });
}

describe("authenticateCallback", () => {
  it("accepts the relay token alone for a job request sent on the queue", async () => {
    await expect(authenticate("queue")).resolves.toMatchObject({ identity: null, claims: { jti: "req-1" } });
  });

  it("still demands OIDC for a repository_dispatch sent before the downstream moved to the queue", async () => {
    await expect(authenticate("dispatch")).rejects.toMatchObject({ kind: "token-invalid" });
  });

  it("demands OIDC when the dispatch has no record", async () => {
    await expect(authenticate(null)).rejects.toMatchObject({ kind: "token-invalid" });
  });
});
