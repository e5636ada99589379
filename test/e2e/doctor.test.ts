import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";

const BIN = resolve(__dirname, "../../bin/ci-relay.js");

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: good/backend, level: L4 }
  - { repo: broken/backend, level: L3, device: npu }
  - { repo: absent/backend, level: L2 }
`;

const GOOD_WORKFLOW = `
name: relay
on:
  repository_dispatch:
    types: [pull_request, push]
permissions: { id-token: write, contents: read }
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: pytorch/ci-relay/action@0123456789abcdef0123456789abcdef01234567
        with: { status: in_progress }
      - run: make test
      - if: always()
        uses: pytorch/ci-relay/action@0123456789abcdef0123456789abcdef01234567
        with: { status: completed, conclusion: "\${{ job.status }}", scope: run }
`;

/** Listens only for pull_request and never grants the job an OIDC token. */
const BROKEN_WORKFLOW = `
on:
  repository_dispatch:
    types: [pull_request]
  workflow_dispatch: {}
permissions: { contents: read }
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: pytorch/ci-relay/action@main
        with: { status: completed, conclusion: success }
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("ci-relay doctor against the fake GitHub", () => {
  let github: FakeGitHub;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 31, account: "good", repos: ["good/backend"] });
    github.addInstallation({
      id: 32,
      account: "broken",
      repos: ["broken/backend"],
      permissions: { contents: "read", metadata: "read" },
    });
    github.addInstallation({ id: 33, account: "unlisted", repos: ["unlisted/ci"] });
    github.setFile("good/backend", ".github/workflows/relay.yml", GOOD_WORKFLOW);
    github.setFile(
      "good/backend",
      ".github/workflows/lint.yaml",
      "on: push\njobs: { lint: { runs-on: ubuntu-latest, steps: [{ run: make lint }] } }\n",
    );
    github.setFile("broken/backend", ".github/workflows/ci.yml", BROKEN_WORKFLOW);
    dir = mkdtempSync(join(tmpdir(), "ci-relay-doctor-"));
    writeFileSync(join(dir, "relay.yml"), CONFIG);
    env = {
      APP_ID: String(github.appId),
      PRIVATE_KEY: testAppCredentials().privateKeyPem,
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      RELAY_CONFIG: join(dir, "relay.yml"),
    };
  });

  afterAll(async () => {
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const doctor = (args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> =>
    new Promise((done, fail) => {
      const merged = Object.fromEntries(
        Object.entries({ PATH: process.env.PATH ?? "", ...env, ...extra }).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      );
      const child = spawn(process.execPath, [BIN, "doctor", ...args], {
        cwd: dir,
        env: merged,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("error", fail);
      child.once("close", (code) => done({ code, stdout, stderr }));
    });

  it("a good downstream: every check ok, exit 0", async () => {
    const run = await doctor(["good/backend"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines.every((line) => line.startsWith("ok "))).toBe(true);
    for (const check of [
      "config",
      "installation",
      "permissions",
      "workflow",
      "event-types",
      "action",
      "id-token",
      "run-scope",
    ])
      expect(run.stdout).toMatch(new RegExp(`^ok +${check} `, "m"));
    expect(run.stdout).toContain("good/backend is a downstream at L4");
    expect(run.stdout).toContain("listening: .github/workflows/relay.yml");
    expect(run.stdout).toContain("pinned: pytorch/ci-relay/action@0123456789abcdef0123456789abcdef01234567");
    // Read-only: the token it asked for carries contents: read and nothing more.
    const tokenRequests = github.requests.filter(
      (request) => request.route === "POST /app/installations/{installation_id}/access_tokens",
    );
    expect(tokenRequests.map((request) => request.body)).toContainEqual({
      repositories: ["backend"],
      permissions: { contents: "read", metadata: "read" },
    });
  });

  it("a broken downstream: each problem with its fix, exit 1; --json gives the same findings", async () => {
    const run = await doctor(["broken/backend"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^problem +permissions +missing contents: write/m);
    expect(run.stdout).toMatch(/^problem +event-types +no workflow takes event type push/m);
    expect(run.stdout).toMatch(/^problem +id-token +\.github\/workflows\/ci\.yml: /m);
    expect(run.stdout).toMatch(/^ok +action +pytorch\/ci-relay\/action@main \(a branch or tag: pin a commit SHA/m);
    expect(run.stdout).toMatch(/fix: add push to on\.repository_dispatch\.types/);
    expect(run.stdout).toMatch(/fix: add permissions: \{ id-token: write, contents: read \}/);

    const json = await doctor(["broken/backend", "--json"]);
    expect(json.code).toBe(1);
    const answer = JSON.parse(json.stdout) as {
      ok: boolean;
      repo: string;
      findings: { check: string; ok: boolean; fix?: string }[];
    };
    expect(answer).toMatchObject({ ok: false, repo: "broken/backend" });
    expect(answer.findings.filter((finding) => !finding.ok).map((finding) => finding.check)).toEqual([
      "permissions",
      "event-types",
      "id-token",
    ]);
    expect(answer.findings.filter((finding) => !finding.ok).every((finding) => typeof finding.fix === "string")).toBe(
      true,
    );
  });

  it("a downstream the app is not installed on, and a repository not in the config", async () => {
    const absent = await doctor(["absent/backend"]);
    expect(absent.code).toBe(1);
    expect(absent.stdout).toMatch(/^problem +installation +the app is not installed on absent\/backend/m);
    const unlisted = await doctor(["unlisted/ci"]);
    expect(unlisted.code).toBe(1);
    expect(unlisted.stdout).toMatch(/^problem +config +unlisted\/ci is not among the relay config's downstreams/m);
    expect(unlisted.stdout).toMatch(
      /^problem +workflow +no workflow in \.github\/workflows listens for repository_dispatch \(0 read\)/m,
    );
  });

  it("usage and credentials errors name what is wrong in one stderr line", async () => {
    expect(await doctor([])).toEqual({
      code: 2,
      stdout: "",
      stderr: "ci-relay: <owner/repo>: exactly one repository, e.g. octo-org/downstream\n",
    });
    expect(await doctor(["good/backend"], { APP_ID: undefined })).toEqual({
      code: 2,
      stdout: "",
      stderr: "ci-relay: APP_ID: required for doctor (the app's credentials, as in .env)\n",
    });
    expect(await doctor(["good/backend"], { GHE_HOST: "127.0.0.1:1" })).toEqual({
      code: 1,
      stdout: "",
      stderr: "ci-relay: GHE_HOST: http://127.0.0.1:1/api/v3 could not be reached\n",
    });
    const missingConfig = await doctor(["good/backend"], { RELAY_CONFIG: join(dir, "nope.yml") });
    expect(missingConfig).toMatchObject({ code: 2, stdout: "" });
    expect(missingConfig.stderr).toMatch(/^ci-relay: RELAY_CONFIG: .*nope\.yml cannot be read\n$/);
  });
});
