import { SignJWT, UnsecuredJWT, decodeJwt } from "jose";
import { mintRelayToken, verifyRelayToken, type RelayTokenSubject } from "../../../src/auth/relay-token";
import { expectRejection } from "./expect-rejection";
import { respellings } from "../../support/respell-jwt";

const OLD_SECRET = "old-secret-old-secret-old-secret-0001";
const NEW_SECRET = "new-secret-new-secret-new-secret-0002";
const DAY_MS = 24 * 60 * 60 * 1000;

const subject: RelayTokenSubject = {
  sub: "Ascend/PyTorch",
  jti: "2f0c6a43-6a55-4c59-9a0e-0c2e0d8b7b11",
  upstream: "pytorch/pytorch",
  sha: "6f8b2c1e8d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c",
  pr: 123,
  level: "L3",
  delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
};

/** A token with the relay's claims but signed by hand, to vary one thing the mint never varies. */
function handMade(overrides: Record<string, unknown>, secret = OLD_SECRET): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...subject,
    sub: "ascend/pytorch",
    iss: "ci-relay",
    aud: "ci-relay-callback",
    iat,
    exp: iat + 600,
    ...overrides,
  })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));
}

describe("relay callback token", () => {
  test("verifies to the claims it was minted with, downstream lower-cased, valid three days", async () => {
    const now = new Date("2025-03-01T12:00:00Z");
    const token = await mintRelayToken(subject, [OLD_SECRET], now);

    const claims = await verifyRelayToken(token, [OLD_SECRET], now);

    expect(claims).toEqual({
      ...subject,
      sub: "ascend/pytorch",
      iss: "ci-relay",
      aud: "ci-relay-callback",
      iat: now.getTime() / 1000,
      exp: now.getTime() / 1000 + 3 * 24 * 60 * 60,
    });
  });

  test("a push dispatch carries pr null", async () => {
    const token = await mintRelayToken({ ...subject, pr: null }, [OLD_SECRET]);

    await expect(verifyRelayToken(token, [OLD_SECRET])).resolves.toMatchObject({ pr: null });
  });

  test("during a rotation a token signed with the old secret still verifies", async () => {
    const token = await mintRelayToken(subject, [OLD_SECRET]);

    await expect(verifyRelayToken(token, [NEW_SECRET, OLD_SECRET])).resolves.toMatchObject({ jti: subject.jti });
  });

  test("during a rotation the first secret signs", async () => {
    const token = await mintRelayToken(subject, [NEW_SECRET, OLD_SECRET]);

    await expect(verifyRelayToken(token, [NEW_SECRET])).resolves.toMatchObject({ jti: subject.jti });
    await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "signature-invalid", token);
  });

  test("a token signed with a secret the relay does not hold is refused", async () => {
    const token = await mintRelayToken(subject, ["someone-elses-secret-of-enough-length"]);

    await expectRejection(
      verifyRelayToken(token, [NEW_SECRET, OLD_SECRET]),
      "token-invalid",
      "signature-invalid",
      token,
    );
  });

  test("a token whose payload was altered is refused", async () => {
    const token = await mintRelayToken(subject, [OLD_SECRET]);
    const [header, , signature] = token.split(".");
    const altered = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: "attacker/repo" })).toString("base64url");
    const tampered = `${header}.${altered}.${signature}`;

    await expectRejection(verifyRelayToken(tampered, [OLD_SECRET]), "token-invalid", "signature-invalid", tampered);
  });

  test("an expired token is refused, but not within the 60 s clock skew", async () => {
    const now = new Date();
    const expired = await mintRelayToken(subject, [OLD_SECRET], new Date(now.getTime() - 3 * DAY_MS - 120_000));
    const justExpired = await mintRelayToken(subject, [OLD_SECRET], new Date(now.getTime() - 3 * DAY_MS - 30_000));

    await expectRejection(verifyRelayToken(expired, [OLD_SECRET], now), "token-invalid", "token-expired", expired);
    await expect(verifyRelayToken(justExpired, [OLD_SECRET], now)).resolves.toMatchObject({ jti: subject.jti });
  });

  test("a token for another audience is refused", async () => {
    const token = await handMade({ aud: "ci-relay-broker" });

    await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "audience-mismatch", token);
  });

  test("a token from another issuer is refused", async () => {
    const token = await handMade({ iss: "someone-else" });

    await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "issuer-mismatch", token);
  });

  test("an unsigned (alg none) token is refused", async () => {
    const token = new UnsecuredJWT({ ...subject, sub: "ascend/pytorch" })
      .setIssuer("ci-relay")
      .setAudience("ci-relay-callback")
      .setIssuedAt()
      .setExpirationTime("1h")
      .encode();

    await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "algorithm-not-allowed", token);
  });

  test("a correctly signed token with claims of the wrong shape is refused", async () => {
    const token = await handMade({ pr: "123" });

    await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "claims-invalid", token);
  });

  describe("a token spelled other than as it was signed is refused", () => {
    // A fixed clock makes the token, and so which respellings apply, the same on every run.
    const now = new Date("2025-03-01T12:00:00Z");
    let token: string;
    beforeAll(async () => {
      token = await mintRelayToken(subject, [OLD_SECRET], now);
    });

    test("the canonical spelling verifies", async () => {
      await expect(verifyRelayToken(token, [OLD_SECRET], now)).resolves.toMatchObject({ jti: subject.jti });
    });

    test("every respelling is malformed", async () => {
      const variants = respellings(token);
      expect(variants.map(([name]) => name)).toEqual(
        expect.arrayContaining(["`=` after the signature", "unused trailing bits set in the signature"]),
      );
      for (const [, variant] of variants) {
        await expectRejection(verifyRelayToken(variant, [OLD_SECRET], now), "token-invalid", "token-malformed");
      }
    });
  });

  test.each(["jti", "sub", "upstream", "sha", "delivery"])(
    "a correctly signed token with an empty %s is refused",
    async (claim) => {
      const token = await handMade({ [claim]: "" });

      await expectRejection(verifyRelayToken(token, [OLD_SECRET]), "token-invalid", "claims-invalid", token);
    },
  );

  test("text that is not a JWT is refused as malformed", async () => {
    await expectRejection(verifyRelayToken("not-a-jwt", [OLD_SECRET]), "token-invalid", "token-malformed", "not-a-jwt");
  });

  test("without a secret neither minting nor verifying is possible", async () => {
    const token = await mintRelayToken(subject, [OLD_SECRET]);

    await expectRejection(mintRelayToken(subject, []), "auth-not-configured", "relay-token-secret-missing");
    await expectRejection(verifyRelayToken(token, []), "auth-not-configured", "relay-token-secret-missing", token);
  });

  describe("verified once, remembered", () => {
    test("a token verified again under the same secrets is still refused once it expires", async () => {
      const secrets = [OLD_SECRET];
      const minted = new Date("2025-03-01T12:00:00Z");
      const token = await mintRelayToken(subject, secrets, minted);
      const expiresAt = minted.getTime() + 3 * DAY_MS;
      await expect(verifyRelayToken(token, secrets, minted)).resolves.toMatchObject({ jti: subject.jti });
      await expect(verifyRelayToken(token, secrets, new Date(expiresAt + 30_000))).resolves.toMatchObject({
        jti: subject.jti,
      });
      await expectRejection(
        verifyRelayToken(token, secrets, new Date(expiresAt + 61_000)),
        "token-invalid",
        "token-expired",
        token,
      );
    });

    test("only the exact token is remembered: one altered after its twin verified is refused", async () => {
      const secrets = [OLD_SECRET];
      const token = await mintRelayToken(subject, secrets);
      await verifyRelayToken(token, secrets);
      const [header, payload, signature] = token.split(".");
      const tampered = [header, payload, `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BA" : "AA"}`].join(
        ".",
      );
      await expectRejection(verifyRelayToken(tampered, secrets), "token-invalid", "signature-invalid", tampered);
    });

    test("a token remembered under one list of secrets is verified in full under another", async () => {
      const token = await mintRelayToken(subject, [OLD_SECRET]);
      await verifyRelayToken(token, [OLD_SECRET]);
      await expectRejection(verifyRelayToken(token, [NEW_SECRET]), "token-invalid", "signature-invalid", token);
    });
  });
});
