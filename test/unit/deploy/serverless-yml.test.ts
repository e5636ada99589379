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

  it.each(functions)("%s points at a bundled handler that exports it, and ships only its bundle", async (_name, fn) => {
    const [file, exported] = [
      fn.handler.slice(0, fn.handler.lastIndexOf(".")),
      fn.handler.slice(fn.handler.lastIndexOf(".") + 1),
    ];
    const bundle = join(ROOT, `${file}.js`);
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
    expect(typeof ((await import(bundle)) as Record<string, unknown>)[exported]).toBe("function");
    expect(fn.package?.patterns).toEqual(["!**", `${file}.js`, `${file}.js.map`]);
  });

  it("documents in .env.example every variable it sets or reads from the deployer's environment", () => {
    const set = environments.flatMap((env) => Object.keys(env));
    const read = ["serverless.yml", "deploy/aws.yml", "deploy/local.yml"].flatMap((file) =>
      [...readFileSync(join(ROOT, file), "utf8").matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]),
    );
    expect(set.length).toBeGreaterThan(0);
    expect([...new Set([...set, ...read])].filter((name) => !documented.has(name))).toEqual([]);
  });

  describe("stage settings", () => {
    const deployed = parse(readFileSync(join(ROOT, "deploy/aws.yml"), "utf8")) as Record<string, unknown>;
    const local = parse(readFileSync(join(ROOT, "deploy/local.yml"), "utf8")) as Record<string, unknown>;
    const stageKeys = [
      ...readFileSync(join(ROOT, "serverless.yml"), "utf8").matchAll(/\$\{self:custom\.stage\.([A-Za-z_]+)/g),
    ].map((m) => m[1]);

    it("come from deploy/<stage>.yml, else deploy/aws.yml", () => {
      expect((serverless as unknown as { custom: { stage: string } }).custom.stage).toBe(
        "${file(./deploy/${sls:stage}.yml), file(./deploy/aws.yml)}",
      );
    });

    it("deployed stages take every secret from SSM, never from a file", () => {
      for (const secret of ["PRIVATE_KEY", "WEBHOOK_SECRET", "RELAY_TOKEN_SECRET", "HUD_TOKEN", "REDIS_URL"]) {
        expect(serverless.provider.environment[secret]).toBe(`\${self:custom.stage.${secret}}`);
        expect(deployed[secret]).toMatch(/^\$\{ssm:\/ci-relay\/[a-z-]+(, '')?\}$/);
      }
    });

    it("the local stage names no SSM parameter and no secret value: the environment, else a loopback default or blank", () => {
      expect(JSON.stringify(local)).not.toContain("ssm:");
      for (const [name, value] of Object.entries(local))
        expect(value).toMatch(
          new RegExp(`^\\$\\{env:${name}, '(|redis://127\\.0\\.0\\.1:6379|http://127\\.0\\.0\\.1:3000)'\\}$`),
        );
    });

    it("both files set every setting serverless.yml takes from them (the local one has no VPC)", () => {
      expect(Object.keys(deployed).sort()).toEqual([...new Set(stageKeys)].sort());
      expect(Object.keys(local).sort()).toEqual([...new Set(stageKeys)].filter((key) => key !== "vpc").sort());
    });
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
