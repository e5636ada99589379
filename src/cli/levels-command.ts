import { readFile } from "node:fs/promises";
import { basename, isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import { isGithubConfigRef } from "../config/config-location";
import { parseRelayConfig, RelayConfigError } from "../config/parse-relay-config";
import { editConfigLevels } from "../levels/edit-config-levels";
import { planLevelChanges, type DownstreamEvidence, type LevelChange } from "../levels/plan-level-changes";
import { unifiedDiff } from "../levels/unified-diff";
import type { CliCommand } from "./cli-command";
import { EXIT, UsageError, type CliIo } from "./cli-io";
import { parseCommandArgs } from "./option-table";
import { withDotEnv } from "./read-dot-env";

const OPTIONS = {
  plan: {
    type: "boolean",
    help: "print the allowlist change the evidence suggests (required: levels only plans, it never writes)",
  },
  url: {
    type: "string",
    arg: "url",
    help: "the relay's base URL (default $CI_RELAY_URL, else http://localhost:$PORT, PORT default 3000)",
  },
  config: {
    type: "string",
    arg: "path",
    help: "the config file to plan for (default $RELAY_CONFIG, else ./relay.yml)",
  },
} as const;

const percentiles = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });

/** The part of `GET /relay/v1/downstreams` the plan reads; a relay answering anything else is refused. */
const evidenceAnswer = z.object({
  windowDays: z.number(),
  downstreams: z.array(
    z.object({
      repo: z.string(),
      dispatches: z.number(),
      successRate: z.number().nullable(),
      pickupRate: z.number().nullable(),
      timeouts: z.number(),
      queueSeconds: percentiles,
      executionSeconds: percentiles,
    }),
  ),
});

/** A local file: the plan is a diff of a file the operator edits and commits (a `github:` source is a checkout away). */
function configPath(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const path = option ?? env.RELAY_CONFIG ?? "relay.yml";
  if (isGithubConfigRef(path))
    throw new UsageError(
      option === undefined ? "RELAY_CONFIG" : "--config",
      "names a file on GitHub: check it out and pass --config <path>",
    );
  return path;
}

/** The relay's evidence over the file's window, so the plan judges the record the file's thresholds speak of. */
async function readEvidence(
  io: CliIo,
  url: string,
  windowDays: number,
): Promise<{ windowDays: number; downstreams: DownstreamEvidence[] }> {
  let response: Response;
  try {
    response = await io.fetch(`${url}/relay/v1/downstreams?window_days=${windowDays}`, {
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new UsageError("--url", `${url} could not be reached`);
  }
  const parsed = response.ok ? evidenceAnswer.safeParse(await response.json().catch(() => null)) : null;
  if (!parsed?.success)
    throw new UsageError("--url", `${url}/relay/v1/downstreams answered ${response.status} without the level evidence`);
  return parsed.data;
}

function explain(change: LevelChange): string {
  const line = `# ${change.kind} ${change.repo} ${change.from} -> ${change.to}: ${change.why}`;
  return change.to === "L3" ? `${line} (not in the diff: L3 needs a device; set level and device by hand)` : line;
}

/**
 * `ci-relay levels --plan`: reads a running relay's level evidence and the config file, and prints the
 * level changes the evidence suggests as `#` lines and a unified diff of the file. It never writes it.
 */
export const levelsCommand: CliCommand = {
  name: "levels",
  summary:
    "print the level changes (promote/demote) a relay's evidence suggests, as a diff of the config; never writes it",
  synopsis: "--plan",
  options: OPTIONS,
  environment: {
    CI_RELAY_URL: "the relay's base URL when --url is not given",
    PORT: "port of the default --url (default 3000)",
    RELAY_CONFIG: "the config file when --config is not given (default ./relay.yml)",
    UPSTREAM_REPO: "compat: the upstream of a CRCR allowlist (which has no levels: thresholds, so nothing to plan)",
  },
  output:
    "one `# ` line per suggested change and per downstream left alone, then a unified diff of the config file (none when nothing changes)",
  run: async (argv: string[], io: CliIo) => {
    let request: { url: string; path: string; upstreamRepo: string | undefined };
    try {
      const { values, positionals } = parseCommandArgs("levels", argv, OPTIONS);
      if (positionals.length > 0) throw new UsageError(positionals[0], "levels takes no arguments");
      if (!values.plan)
        throw new UsageError("--plan", "required: levels only prints a plan, it never changes the config");
      const env = withDotEnv(io.env);
      const url = (values.url ?? env.CI_RELAY_URL ?? `http://localhost:${env.PORT ?? "3000"}`).replace(/\/+$/, "");
      if (!URL.canParse(url)) throw new UsageError("--url", "not a URL");
      request = { url, path: configPath(values.config, env), upstreamRepo: env.UPSTREAM_REPO };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.error(`ci-relay: ${error.message}`);
      return EXIT.usage;
    }
    try {
      const text = await readFile(request.path, "utf8").catch(() => {
        throw new UsageError("--config", `${request.path} cannot be read`);
      });
      // A CRCR allowlist needs its upstream to parse; it has no `levels:`, so its plan is always empty.
      const config = parseRelayConfig(text, { upstreamRepo: request.upstreamRepo, source: request.path });
      const evidence = await readEvidence(io, request.url, config.levels.windowDays);
      const plan = planLevelChanges(config.downstreams, config.levels, evidence.downstreams);
      io.print(
        `# evidence of the last ${evidence.windowDays} days from ${request.url}; thresholds from ${request.path}`,
      );
      for (const change of plan.changes) io.print(explain(change));
      for (const note of plan.notes) io.print(`# ${note}`);
      const moves = plan.changes.flatMap(({ repo, to }) => (to === "L3" ? [] : [{ repo, to }]));
      if (plan.changes.length === 0) io.print("# no level change suggested");
      // Named from here, as `git diff` names files, so `patch -p1` or `git apply` here takes it as it
      // is; a file outside this directory by its name alone (apply it where the file is).
      const fromHere = relative(process.cwd(), resolve(request.path));
      const name = fromHere.startsWith("..") || isAbsolute(fromHere) ? basename(request.path) : fromHere;
      const diff = unifiedDiff(text, editConfigLevels(text, moves), { from: `a/${name}`, to: `b/${name}` });
      for (const line of diff.split("\n").slice(0, -1)) io.print(line);
      return EXIT.ok;
    } catch (error) {
      if (error instanceof UsageError || error instanceof RelayConfigError) {
        io.error(`ci-relay: ${error.message}`);
        return EXIT.failed;
      }
      throw error;
    }
  },
};
