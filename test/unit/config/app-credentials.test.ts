import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { githubApiUrl, readAppKey } from "../../../src/config/app-credentials";
import { generateAppKey } from "../../support/app-key";

describe("readAppKey", () => {
  const { privateKeyPem } = generateAppKey();

  it("reads PRIVATE_KEY as PEM or as base64 of one", () => {
    expect(readAppKey({ PRIVATE_KEY: privateKeyPem })).toBe(privateKeyPem);
    expect(readAppKey({ PRIVATE_KEY: Buffer.from(privateKeyPem).toString("base64") })?.trim()).toBe(
      privateKeyPem.trim(),
    );
  });

  it("reads the file PRIVATE_KEY_PATH names", () => {
    const dir = mkdtempSync(join(tmpdir(), "ci-relay-key-"));
    try {
      writeFileSync(join(dir, "app.pem"), privateKeyPem);
      expect(readAppKey({ PRIVATE_KEY_PATH: join(dir, "app.pem") })).toBe(privateKeyPem);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("throws on a PRIVATE_KEY that is no key, rather than passing it on", () => {
    expect(() => readAppKey({ PRIVATE_KEY: "not a key" })).toThrow();
  });
});

describe("githubApiUrl", () => {
  it.each([
    [{}, "https://api.github.com"],
    [{ gheHost: "ghe.example.com" }, "https://ghe.example.com/api/v3"],
    [{ gheHost: "ghe.example.com:8443", gheProtocol: "http" }, "http://ghe.example.com:8443/api/v3"],
  ])("%j -> %s", (env, url) => {
    expect(githubApiUrl(env)).toBe(url);
  });
});
