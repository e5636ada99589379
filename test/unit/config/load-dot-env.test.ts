import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvError, lacksAllAppCredentials, loadEnv, requireAppCredentials } from "../../../src/config/env";
import { dotEnvOverlay, loadDotEnv } from "../../../src/config/load-dot-env";

const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----";

describe("dotEnvOverlay", () => {
  it("reads what Probot's setup writes, the PEM double-quoted across lines", () => {
    expect(dotEnvOverlay(`APP_ID=4242\nPRIVATE_KEY="${PEM}"\nWEBHOOK_SECRET=s3cret\n`, {})).toEqual({
      APP_ID: "4242",
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET: "s3cret",
    });
  });

  it("lets the environment win, except where it is blank", () => {
    expect(
      dotEnvOverlay("APP_ID=1\nPORT=3001\nLOG_LEVEL=debug\n", { APP_ID: "2", PORT: " ", LOG_LEVEL: undefined }),
    ).toEqual({ PORT: "3001", LOG_LEVEL: "debug" });
  });
});

describe("loadDotEnv", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ci-relay-dot-env-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the file's settings to the environment it is given", () => {
    writeFileSync(join(dir, ".env"), "APP_ID=7\nWEBHOOK_SECRET=from-file\n");
    const env: NodeJS.ProcessEnv = { WEBHOOK_SECRET: "from-env" };
    loadDotEnv(dir, env);
    expect(env).toEqual({ APP_ID: "7", WEBHOOK_SECRET: "from-env" });
  });

  it("changes nothing without a file, and names .env when it cannot be read", () => {
    const env: NodeJS.ProcessEnv = { PORT: "1" };
    loadDotEnv(dir, env);
    expect(env).toEqual({ PORT: "1" });
    mkdirSync(join(dir, ".env"));
    expect(() => loadDotEnv(dir, env)).toThrow(/^\.env: cannot read .*\.env \(EISDIR\)$/);
  });
});

describe("App credentials", () => {
  it("are all absent only when none of the four is set (then setup runs)", () => {
    expect(lacksAllAppCredentials(loadEnv({ APP_ID: "", PRIVATE_KEY: " " }))).toBe(true);
    for (const one of [{ APP_ID: "1" }, { PRIVATE_KEY: PEM }, { PRIVATE_KEY_PATH: "k.pem" }, { WEBHOOK_SECRET: "s" }]) {
      expect(lacksAllAppCredentials(loadEnv(one))).toBe(false);
    }
  });

  it("are required together, one line per missing variable", () => {
    const missing = (vars: Record<string, string>, hasKey: boolean) => {
      try {
        requireAppCredentials(loadEnv(vars), hasKey);
        return [];
      } catch (error) {
        return (error as EnvError).problems.map((problem) => problem.variable);
      }
    };
    expect(missing({ APP_ID: "1", WEBHOOK_SECRET: "s" }, true)).toEqual([]);
    expect(missing({ WEBHOOK_SECRET: "s" }, true)).toEqual(["APP_ID"]);
    expect(missing({ APP_ID: "1", WEBHOOK_SECRET: "s" }, false)).toEqual(["PRIVATE_KEY"]);
    expect(missing({ APP_ID: "1" }, true)).toEqual(["WEBHOOK_SECRET"]);
  });

  it("refuse a non-numeric APP_ID in one line naming it", () => {
    expect(() => loadEnv({ APP_ID: "abc" })).toThrow(/^APP_ID: [^\n]+$/);
  });
});
