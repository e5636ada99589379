import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { OPERATION_NAMES } from "../broker/operations";
import { fetchActionsIdToken, IdTokenUnavailable } from "./actions-id-token";
import type { CliCommand } from "./cli-command";
import { EXIT, UsageError, type CliIo } from "./cli-io";
import { parseCommandArgs, type OptionTable } from "./option-table";
import { parseAnswerBody } from "../errors/parse-answer-body";

/**
 * `ci-relay broker|pr-preflight|callback`: the runner side of the broker and of callbacks. The only
 * credential they use is the job's OIDC token; they never read GH_TOKEN or GITHUB_TOKEN, so a runner
 * without a relay stays without GitHub access rather than silently using another token.
 */

const RUNTIME_ENV = {
  ACTIONS_ID_TOKEN_REQUEST_URL: "the Actions runtime's OIDC endpoint (set by GitHub Actions with id-token: write)",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "its bearer (set by GitHub Actions)",
} as const;

const CALLER_ENV = {
  CI_RELAY_TASK_ID: "caller.taskId in the request and audit record (optional)",
  CI_RELAY_QUEUE_ID: "caller.queueId in the request and audit record (optional)",
} as const;

const REQUEST_ID = {
  "request-id": {
    type: "string",
    arg: "uuid",
    help: "the request's id; a retried live write with the same id writes once (default: a new one)",
  },
} as const;

const BROKER_OPTIONS = {
  repo: { type: "string", arg: "o/r", help: "target repository (required)" },
  number: { type: "string", arg: "N", help: "issue or PR number (issue.read, pr.read, pr.comment.create)" },
  "dry-run": { type: "boolean", help: "plan a write without making it (the default for writes)" },
  live: { type: "boolean", help: "make the write (the grant must list the operation under live)" },
  "json-fields": { type: "string", arg: "a,b", help: "keep only these top-level fields of GitHub's answer" },
  body: { type: "string", arg: "text", help: "comment or PR body" },
  title: { type: "string", arg: "text", help: "PR title (pr.create)" },
  head: { type: "string", arg: "branch", help: "PR head branch (pr.create, pr.list)" },
  base: { type: "string", arg: "branch", help: "PR base branch (pr.create, pr.list)" },
  state: { type: "string", arg: "open|closed|all", help: "list filter (issue.list, pr.list)" },
  "per-page": { type: "string", arg: "N", help: "list page size (issue.list, pr.list)" },
  ...REQUEST_ID,
} as const satisfies OptionTable;

const PREFLIGHT_OPTIONS = {
  repo: { type: "string", arg: "o/r", help: "target repository (required)" },
  base: { type: "string", arg: "branch", help: "target branch (required)" },
  head: { type: "string", arg: "branch", help: "the branch the runner would push (required)" },
  issue: { type: "string", arg: "N", help: "the issue the PR would close" },
  "include-pr-create-dry-run": { type: "boolean", help: "also plan the PR creation" },
  "include-push-dry-run": { type: "boolean", help: "also describe the push" },
  ...REQUEST_ID,
} as const satisfies OptionTable;

const CALLBACK_OPTIONS = {
  status: { type: "string", arg: "in_progress|completed", help: "the job's state (required)" },
  conclusion: { type: "string", arg: "c", help: "success, failure, cancelled, skipped, timed_out… (with completed)" },
  "job-name": { type: "string", arg: "name", help: "the job reported (default $GITHUB_JOB)" },
  scope: {
    type: "string",
    arg: "job|run",
    help: "run: the report that concludes the downstream's check",
    default: "job",
  },
  summary: { type: "string", arg: "text", help: "shown on the check run" },
  "artifact-url": { type: "string", arg: "url", help: "link to the job's artifacts" },
  "test-results": { type: "string", arg: "json", help: 'e.g. {"passed":10,"failed":0,"skipped":1}' },
} as const satisfies OptionTable;

/** SPEC §6: what a runner without a relay URL answers instead of reaching for a token. */
const BROKER_NEEDED = {
  ok: false,
  failureKind: "auth-missing",
  degradedReason: "broker-needed",
  runnerDisposition: "infra-blocked",
  brokerNeeded: true,
} as const;

interface Post {
  url: string;
  audience: string;
  body: Record<string, unknown>;
}

/** What a refused invocation prints: the SPEC §5 body on stdout (machines read it), one line on stderr. */
function refuse(io: CliIo, error: UsageError, failureKind = "validation-failed"): number {
  io.print(
    JSON.stringify({
      ok: false,
      failureKind,
      runnerDisposition: "business-failed",
      retryable: false,
      message: error.message,
    }),
  );
  io.error(`ci-relay: ${error.message}`);
  return EXIT.usage;
}

/** Plans with `plan`, then sends the request with the job's OIDC token and prints the relay's answer. */
async function runRunnerCommand(plan: () => Promise<Post | null>, io: CliIo): Promise<number> {
  let post: Post | null;
  try {
    post = await plan();
  } catch (error) {
    if (error instanceof UnknownOperation) return refuse(io, error, "operation-not-allowed");
    if (error instanceof UsageError) return refuse(io, error);
    throw error;
  }
  if (post === null) {
    io.print(JSON.stringify(BROKER_NEEDED));
    io.error(
      "ci-relay: CI_RELAY_URL: not set, so there is no relay to ask (the CLI never falls back to a GitHub token)",
    );
    return EXIT.failed;
  }
  let token: string;
  try {
    token = await fetchActionsIdToken(io.env, post.audience, io.fetch);
  } catch (error) {
    if (!(error instanceof IdTokenUnavailable)) throw error;
    io.print(
      JSON.stringify({
        ok: false,
        failureKind: "auth-missing",
        degradedReason: error.reason,
        runnerDisposition: "infra-blocked",
        message: error.message,
      }),
    );
    io.error(`ci-relay: ${error.message}`);
    return EXIT.failed;
  }
  return send(post, token, io);
}

async function send(plan: Post, token: string, io: CliIo): Promise<number> {
  try {
    const response = await io.fetch(plan.url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(plan.body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    const answer = parseAnswerBody(text);
    io.print(
      JSON.stringify(
        answer ?? {
          ok: false,
          failureKind: "upstream-invalid-response",
          runnerDisposition: "infra-blocked",
          status: response.status,
        },
      ),
    );
    if (response.ok && answer?.ok === true) return EXIT.ok;
    io.error(
      `ci-relay: the relay refused: ${typeof answer?.failureKind === "string" ? answer.failureKind : `HTTP ${response.status}`}`,
    );
    return EXIT.failed;
  } catch {
    io.print(
      JSON.stringify({
        ok: false,
        failureKind: "github-egress-failed",
        degradedReason: "relay-unreachable",
        runnerDisposition: "infra-blocked",
        retryable: true,
      }),
    );
    io.error(`ci-relay: CI_RELAY_URL: ${plan.url} could not be reached`);
    return EXIT.failed;
  }
}

class UnknownOperation extends UsageError {}

const relayUrlOf = (env: NodeJS.ProcessEnv) => env.CI_RELAY_URL?.replace(/\/+$/, "") || undefined;
const brokerAudienceOf = (env: NodeJS.ProcessEnv) => env.CI_RELAY_BROKER_AUDIENCE || "ci-relay-broker";
const callerOf = (env: NodeJS.ProcessEnv) => ({
  plane: "ci",
  taskId: env.CI_RELAY_TASK_ID ?? null,
  queueId: env.CI_RELAY_QUEUE_ID ?? null,
});

export const brokerCommand: CliCommand = {
  name: "broker",
  summary: "ask the relay to do one allowlisted GitHub operation, with the job's OIDC token",
  synopsis: "<operation>",
  arguments: { "<operation>": OPERATION_NAMES.join(", ") },
  options: BROKER_OPTIONS,
  environment: {
    CI_RELAY_URL: "the relay's base URL; unset: answers broker-needed and exits 1",
    CI_RELAY_BROKER_AUDIENCE: "aud of the OIDC token asked for (default ci-relay-broker; the relay's BROKER_AUDIENCE)",
    ...RUNTIME_ENV,
    ...CALLER_ENV,
  },
  output: "the relay's JSON answer, one line",
  run: (argv, io) =>
    runRunnerCommand(async () => {
      const { values, positionals } = parseCommandArgs("broker", argv, BROKER_OPTIONS);
      const [operation, ...rest] = positionals;
      if (!operation || rest.length > 0)
        throw new UsageError("<operation>", `exactly one is needed, one of ${OPERATION_NAMES.join(", ")}`);
      if (!(OPERATION_NAMES as string[]).includes(operation)) {
        throw new UnknownOperation(
          "<operation>",
          `operation-not-allowed: ${operation} is not one of ${OPERATION_NAMES.join(", ")}`,
        );
      }
      if (values["dry-run"] && values.live) throw new UsageError("--live", "excludes --dry-run");
      const fields = values["json-fields"]
        ?.split(",")
        .map((field) => field.trim())
        .filter(Boolean);
      const params: Record<string, unknown> = {
        number: values.number === undefined ? undefined : integer(values.number, "--number"),
        jsonFields: fields,
        body: values.body,
        title: values.title,
        head: values.head,
        base: values.base,
        state: values.state,
        per_page: values["per-page"] === undefined ? undefined : integer(values["per-page"], "--per-page"),
      };
      const body = {
        requestId: values["request-id"] ?? randomUUID(),
        caller: callerOf(io.env),
        repo: required(values.repo, "--repo"),
        operation,
        ...(values["dry-run"] && { dryRun: true }),
        ...(values.live && { dryRun: false }),
        params: Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)),
      };
      const relayUrl = relayUrlOf(io.env);
      return relayUrl ? { url: `${relayUrl}/relay/v1/github/gh`, audience: brokerAudienceOf(io.env), body } : null;
    }, io),
};

export const prPreflightCommand: CliCommand = {
  name: "pr-preflight",
  summary: "ask the relay whether this runner could open a PR through the broker",
  synopsis: "",
  options: PREFLIGHT_OPTIONS,
  environment: brokerCommand.environment,
  output: "the relay's JSON answer, one line",
  run: (argv, io) =>
    runRunnerCommand(async () => {
      const { values, positionals } = parseCommandArgs("pr-preflight", argv, PREFLIGHT_OPTIONS);
      if (positionals.length > 0) throw new UsageError(positionals[0], "pr-preflight takes no positional arguments");
      const body = {
        requestId: values["request-id"] ?? randomUUID(),
        caller: callerOf(io.env),
        repo: required(values.repo, "--repo"),
        base: required(values.base, "--base"),
        head: required(values.head, "--head"),
        ...(values.issue !== undefined && { issueNumber: integer(values.issue, "--issue") }),
        includePrCreateDryRun: values["include-pr-create-dry-run"] ?? false,
        includePushDryRun: values["include-push-dry-run"] ?? false,
      };
      const relayUrl = relayUrlOf(io.env);
      return relayUrl
        ? { url: `${relayUrl}/relay/v1/github/pr-preflight`, audience: brokerAudienceOf(io.env), body }
        : null;
    }, io),
};

/** Callbacks report to the URL and with the relay token that came in the dispatch's client_payload. */
export const callbackCommand: CliCommand = {
  name: "callback",
  summary: "report this repository_dispatch job's status to the relay (what action/ runs)",
  synopsis: "--status in_progress|completed",
  options: CALLBACK_OPTIONS,
  environment: {
    GITHUB_EVENT_PATH: "the dispatch event (required): its client_payload.relay holds callback_url and callback_token",
    CI_RELAY_URL: "used only when the event carries no callback_url",
    CI_RELAY_CALLBACK_AUDIENCE:
      "aud of the OIDC token asked for (default ci-relay-callback; the relay's CALLBACK_AUDIENCE)",
    ...RUNTIME_ENV,
    GITHUB_SERVER_URL: "with GITHUB_REPOSITORY and GITHUB_RUN_ID, the run's link (set by GitHub Actions)",
    GITHUB_REPOSITORY: "the repository running the job (set by GitHub Actions)",
    GITHUB_RUN_ID: "workflow.run_id (set by GitHub Actions)",
    GITHUB_RUN_ATTEMPT: "workflow.run_attempt (set by GitHub Actions)",
    GITHUB_WORKFLOW: "workflow.name (set by GitHub Actions)",
    GITHUB_JOB: "workflow.job_name unless --job-name (set by GitHub Actions)",
  },
  output: "the relay's JSON answer, one line",
  run: (argv, io) =>
    runRunnerCommand(async () => {
      const { values, positionals } = parseCommandArgs("callback", argv, CALLBACK_OPTIONS);
      if (positionals.length > 0) throw new UsageError(positionals[0], "callback takes no positional arguments");
      const status = required(values.status, "--status");
      const env = io.env;
      const eventPath = env.GITHUB_EVENT_PATH;
      if (!eventPath)
        throw new UsageError("GITHUB_EVENT_PATH", "not set: callback runs inside a repository_dispatch job");
      const event = (await readFile(eventPath, "utf8").then(
        (text) => jsonOption(text, "GITHUB_EVENT_PATH"),
        () => {
          throw new UsageError("GITHUB_EVENT_PATH", `${eventPath} cannot be read`);
        },
      )) as { client_payload?: Record<string, unknown> };
      const payload = event.client_payload ?? {};
      const relay = (payload.relay ?? {}) as { callback_url?: string; callback_token?: string };
      const url = relay.callback_url ?? (relayUrlOf(env) ? `${relayUrlOf(env)}/relay/v1/callback` : undefined);
      if (!url) return null;
      const runUrl =
        env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
          ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
          : undefined;
      const now = new Date().toISOString();
      return {
        url,
        audience: env.CI_RELAY_CALLBACK_AUDIENCE || "ci-relay-callback",
        body: {
          relay_token: relay.callback_token,
          event_type: payload.event_type,
          delivery_id: payload.delivery_id,
          workflow: {
            schema_version: "1",
            status,
            conclusion: values.conclusion ?? null,
            scope: values.scope ?? "job",
            name: env.GITHUB_WORKFLOW,
            url: runUrl,
            run_id: env.GITHUB_RUN_ID,
            run_attempt: env.GITHUB_RUN_ATTEMPT,
            job_name: values["job-name"] ?? env.GITHUB_JOB,
            started_at: status === "in_progress" ? now : undefined,
            completed_at: status === "completed" ? now : null,
            test_results:
              values["test-results"] === undefined ? undefined : jsonOption(values["test-results"], "--test-results"),
            artifact_url: values["artifact-url"],
            summary: values.summary,
          },
        },
      };
    }, io),
};

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(flag, "required");
  return value;
}

function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(flag, "must be a positive integer");
  return Number(value);
}

function jsonOption(value: string, flag: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new UsageError(flag, "must be JSON");
  }
}
