import { readFile } from "node:fs/promises";
import { githubApiUrl, readAppKey } from "../config/app-credentials";
import { resolveConfigLocation } from "../config/config-location";
import { parseRelayConfig, RelayConfigError } from "../config/parse-relay-config";
import { sameRepo, type RelayConfig } from "../config/types";
import { diagnoseDownstream, type Finding } from "../doctor/diagnose-downstream";
import { DoctorGitHub, GitHubAnswerError, GitHubUnreachable } from "../doctor/doctor-github";
import { inspectWorkflow } from "../doctor/inspect-workflow";
import type { CliCommand } from "./cli-command";
import { EXIT, UsageError, type CliIo } from "./cli-io";
import { parseCommandArgs } from "./option-table";
import { withDotEnv } from "./read-dot-env";

const OPTIONS = {
  json: {
    type: "boolean",
    help: 'print {"ok", "repo", "findings": [{check, ok, detail, fix}]} as one JSON line instead',
  },
} as const;

const REPO_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The relay config the server would load: RELAY_CONFIG, else ALLOWLIST_URL, else ./relay.yml. */
async function readRelayConfig(env: NodeJS.ProcessEnv, github: DoctorGitHub): Promise<RelayConfig> {
  const location = resolveConfigLocation(
    { relayConfig: env.RELAY_CONFIG, allowlistUrl: env.ALLOWLIST_URL },
    process.cwd(),
  );
  let text: string;
  if (location.kind === "local") {
    text = await readFile(location.path, "utf8").catch(() => {
      throw new UsageError(
        location.via === "default" ? "RELAY_CONFIG" : location.via,
        `${location.display} cannot be read`,
      );
    });
  } else {
    const { owner, repo, path, ref } = location.file;
    const installation = await github.installation(`${owner}/${repo}`);
    if (!installation)
      throw new UsageError(location.via, `the app is not installed on ${owner}/${repo}, where the config lives`);
    const token = await github.readToken(installation.id, `${owner}/${repo}`);
    text = await github.fileText(
      `${owner}/${repo}`,
      ref === undefined ? path : `${path}?ref=${encodeURIComponent(ref)}`,
      token,
    );
  }
  return parseRelayConfig(text, { upstreamRepo: env.UPSTREAM_REPO, source: location.display });
}

async function examine(repo: string, env: NodeJS.ProcessEnv, io: CliIo): Promise<Finding[]> {
  const privateKey = readAppKey(env);
  const appId = Number(env.APP_ID);
  if (!appId) throw new UsageError("APP_ID", "required for doctor (the app's credentials, as in .env)");
  if (!privateKey) throw new UsageError("PRIVATE_KEY", "required for doctor (or PRIVATE_KEY_PATH)");
  const github = new DoctorGitHub({
    appId: String(appId),
    privateKeyPem: privateKey,
    baseUrl: githubApiUrl({ gheHost: env.GHE_HOST, gheProtocol: env.GHE_PROTOCOL }),
    fetch: io.fetch,
  });
  const config = await readRelayConfig(env, github);
  const downstream = config.downstreams.find((candidate) => sameRepo(candidate.repo, repo)) ?? null;
  const installation = downstream?.transport === "queue" ? null : await github.installation(repo);
  let workflows = null;
  if (installation) {
    const token = await github.readToken(installation.id, repo);
    const files = await github.workflowFiles(repo, token);
    workflows = files?.map((file) => inspectWorkflow(file.path, file.text)) ?? null;
  }
  return diagnoseDownstream({ repo, downstream, installation, workflows });
}

function printFindings(findings: Finding[], io: CliIo): void {
  for (const finding of findings) {
    io.print(`${finding.ok ? "ok     " : "problem"}  ${finding.check.padEnd(12)}  ${finding.detail}`);
    if (finding.fix) io.print(`${" ".repeat(23)}fix: ${finding.fix}`);
  }
}

/**
 * `ci-relay doctor <owner/repo>`: with the app's credentials, checks what makes a downstream work and
 * says what to fix. It only reads: an App JWT, an installation token limited to contents: read.
 */
export const doctorCommand: CliCommand = {
  name: "doctor",
  summary:
    "check a downstream repository: config entry and level, installation and permissions, workflow, id-token, action",
  synopsis: "<owner/repo>",
  options: OPTIONS,
  environment: {
    APP_ID: "the app's id (required; like every variable here, also read from ./.env)",
    PRIVATE_KEY: "the app's private key, PEM text (required, or PRIVATE_KEY_PATH)",
    PRIVATE_KEY_PATH: "a file holding the private key",
    GHE_HOST: "GitHub Enterprise host (default github.com)",
    GHE_PROTOCOL: "its protocol (default https)",
    RELAY_CONFIG: "the relay config, as the server finds it (default ./relay.yml)",
    ALLOWLIST_URL: "compat: a CRCR allowlist, when RELAY_CONFIG is unset",
    UPSTREAM_REPO: "compat: the upstream of that allowlist",
  },
  output: "one line per check (ok or problem, with the fix); --json: one JSON line",
  run: async (argv, io) => {
    let findings: Finding[];
    let repo: string;
    let json: boolean;
    try {
      const { values, positionals } = parseCommandArgs("doctor", argv, OPTIONS);
      json = values.json ?? false;
      if (positionals.length !== 1 || !REPO_NAME.test(positionals[0]))
        throw new UsageError("<owner/repo>", "exactly one repository, e.g. octo-org/downstream");
      repo = positionals[0];
      findings = await examine(repo, withDotEnv(io.env), io);
    } catch (error) {
      if (error instanceof UsageError || error instanceof RelayConfigError) {
        io.error(`ci-relay: ${error.message.split("\n")[0]}`);
        return error instanceof UsageError ? EXIT.usage : EXIT.failed;
      }
      if (error instanceof GitHubUnreachable) {
        io.error(`ci-relay: GHE_HOST: ${error.message}`);
        return EXIT.failed;
      }
      if (error instanceof GitHubAnswerError) {
        io.error(
          `ci-relay: ${error.message}${error.status === 401 ? " (APP_ID and PRIVATE_KEY do not match an app)" : ""}`,
        );
        return EXIT.failed;
      }
      throw error;
    }
    const ok = findings.every((finding) => finding.ok);
    if (json) io.print(JSON.stringify({ ok, repo, findings }));
    else printFindings(findings, io);
    return ok ? EXIT.ok : EXIT.failed;
  },
};
