import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

const ROOT = resolve(__dirname, "../../..");

interface ServerlessFunction {
  handler: string;
  timeout?: number;
  environment?: Record<string, string>;
  package?: { patterns?: string[] };
  events?: Record<string, unknown>[];
}

interface ServerlessYml {
  provider: { runtime: string; environment: Record<string, string> };
  package?: { individually?: boolean };
  functions: Record<string, ServerlessFunction>;
}

const serverless = parse(readFileSync(join(ROOT, "serverless.yml"), "utf8")) as ServerlessYml;
const documented = new Set(
  readFileSync(join(ROOT, ".env.example"), "utf8")
    .split("\n")
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
);
const functions = Object.entries(serverless.functions);
const environments = [serverless.provider.environment, ...functions.map(([, fn]) => fn.environment ?? {})];

describe("serverless.yml", () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-lambda.mjs")], { cwd: ROOT, stdio: "pipe" });
  }, 60_000);

  it.each(functions)("%s points at a bundled handler that exports it, and ships only its bundle", (_name, fn) => {
    const [file, exported] = [fn.handler.slice(0, fn.handler.lastIndexOf(".")), fn.handler.slice(fn.handler.lastIndexOf(".") + 1)];
    const bundle = join(ROOT, `${file}.js`);
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
    expect(typeof (require(bundle) as Record<string, unknown>)[exported]).toBe("function");
    expect(fn.package?.patterns).toEqual(["!**", `${file}.js`, `${file}.js.map`]);
  });

  it("documents in .env.example every variable it sets or reads from the deployer's environment", () => {
    const set = environments.flatMap((env) => Object.keys(env));
    const read = [...readFileSync(join(ROOT, "serverless.yml"), "utf8").matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]);
    expect(set.length).toBeGreaterThan(0);
    expect([...new Set([...set, ...read])].filter((name) => !documented.has(name))).toEqual([]);
  });

  it("takes every secret from SSM, never from the file", () => {
    for (const secret of ["PRIVATE_KEY", "WEBHOOK_SECRET", "RELAY_TOKEN_SECRET", "HUD_TOKEN", "REDIS_URL"]) {
      expect(serverless.provider.environment[secret]).toMatch(/^\$\{ssm:\/ci-relay\/[a-z-]+(, '')?\}$/);
    }
  });

  it("deploys the webhook path, the /relay routes and a drain every minute on Node 20", () => {
    expect(serverless.provider.runtime).toBe("nodejs20.x");
    expect(serverless.package?.individually).toBe(true);
    const events = (name: string) => JSON.stringify(serverless.functions[name].events);
    expect(events("webhook")).toContain('"path":"/api/github/webhooks"');
    expect(events("http")).toContain('"path":"/relay/{proxy+}"');
    expect(events("scheduled")).toContain('"schedule":"rate(1 minute)"');
  });
});
