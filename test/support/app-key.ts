import { generateKeyPairSync } from "node:crypto";

/** Credentials of the GitHub App the tests run as; the fake GitHub knows the public half. */
export interface TestAppCredentials {
  appId: number;
  /** PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), the format GitHub issues App keys in. */
  privateKeyPem: string;
  publicKeyPem: string;
}

export const TEST_APP_ID = 4242;
export const TEST_APP_SLUG = "ci-relay-test";

/** A fresh RSA key pair, for tests that need a key the fake GitHub does not trust. */
export function generateAppKey(): Pick<TestAppCredentials, "privateKeyPem" | "publicKeyPem"> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

let credentials: TestAppCredentials | undefined;

/**
 * The App credentials shared by one test process. Generated on first use rather than committed so
 * that no private key, even a test one, lives in the repository.
 */
export function testAppCredentials(): TestAppCredentials {
  credentials ??= { appId: TEST_APP_ID, ...generateAppKey() };
  return credentials;
}
