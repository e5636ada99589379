import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { fetchActionsIdToken, IdTokenUnavailable } from "./actions-id-token";

/**
 * `ci-relay broker|pr-preflight|callback`: the runner side of the broker and of callbacks. The only
 * credential it uses is the job's OIDC token; it never reads GH_TOKEN or GITHUB_TOKEN, so a runner
 * without a relay stays without GitHub access rather than silently using another token.
 */

export interface CliIo {
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  print(line: string): void;
}

const USAGE = `usage:
  ci-relay broker <operation> --repo o/r [--number N] [--dry-run|--live] [--json-fields a,b] [--body text]
                  [--title t --head branch --base branch] [--state open|closed|all] [--per-page N] [--request-id uuid]
  ci-relay pr-preflight --repo o/r --base branch --head branch [--issue N] [--include-pr-create-dry-run] [--include-push-dry-run]
  ci-relay callback --status in_progress|completed [--conclusion c] [--job-name j] [--scope job|run] [--summary text]
                  [--artifact-url url] [--test-results json]`;

const OPTIONS = {
  repo: { type: "string" },
  number: { type: "string" },
  "dry-run": { type: "boolean" },
  live: { type: "boolean" },
  "json-fields": { type: "string" },
  body: { type: "string" },
  title: { type: "string" },
  head: { type: "string" },
  base: { type: "string" },
  state: { type: "string" },
  "per-page": { type: "string" },
  "request-id": { type: "string" },
  issue: { type: "string" },
  "include-pr-create-dry-run": { type: "boolean" },
  "include-push-dry-run": { type: "boolean" },
  status: { type: "string" },
  conclusion: { type: "string" },
  "job-name": { type: "string" },
  scope: { type: "string" },
  summary: { type: "string" },
  "artifact-url": { type: "string" },
  "test-results": { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/** SPEC §6: what a runner without a relay URL answers instead of reaching for a token. */
const BROKER_NEEDED = {
  ok: false,
  failureKind: "auth-missing",
  degradedReason: "broker-needed",
  runnerDisposition: "infra-blocked",
  brokerNeeded: true,
} as const;

class UsageError extends Error {}

/** parseArgs refuses unknown or malformed flags with ERR_PARSE_ARGS_* errors; --test-results may be bad JSON. */
function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError || error instanceof SyntaxError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

interface Post {
  url: string;
  audience: string;
  body: Record<string, unknown>;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let plan: Post | null;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    plan = await planRequest(positionals, values, io.env);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    io.print(JSON.stringify({ ok: false, failureKind: "validation-failed", message: error.message }));
    io.print(USAGE);
    return 2;
  }
  if (plan === null) {
    io.print(JSON.stringify(BROKER_NEEDED));
    return 1;
  }
  let token: string;
  try {
    token = await fetchActionsIdToken(io.env, plan.audience, io.fetch);
  } catch (error) {
    if (!(error instanceof IdTokenUnavailable)) throw error;
    io.print(JSON.stringify({ ok: false, failureKind: "auth-missing", degradedReason: error.reason, runnerDisposition: "infra-blocked", message: error.message }));
    return 1;
  }
  return post(plan, token, io);
}

async function post(plan: Post, token: string, io: CliIo): Promise<number> {
  try {
    const response = await io.fetch(plan.url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(plan.body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    const answer = parseAnswer(text);
    io.print(JSON.stringify(answer ?? { ok: false, failureKind: "upstream-invalid-response", runnerDisposition: "infra-blocked", status: response.status }));
    return response.ok && answer?.ok === true ? 0 : 1;
  } catch {
    io.print(JSON.stringify({ ok: false, failureKind: "github-egress-failed", degradedReason: "relay-unreachable", runnerDisposition: "infra-blocked", retryable: true }));
    return 1;
  }
}

function parseAnswer(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The request to send; null when there is no relay to send it to. */
async function planRequest(positionals: string[], values: Values, env: NodeJS.ProcessEnv): Promise<Post | null> {
  const [command, operation, ...rest] = positionals;
  const relayUrl = env.CI_RELAY_URL?.replace(/\/+$/, "");
  const brokerAudience = env.CI_RELAY_BROKER_AUDIENCE || "ci-relay-broker";
  const requestId = values["request-id"] ?? randomUUID();
  const caller = { plane: "ci", taskId: env.CI_RELAY_TASK_ID ?? null, queueId: env.CI_RELAY_QUEUE_ID ?? null };
  switch (command) {
    case "broker": {
      if (!operation || rest.length > 0) throw new UsageError("broker needs exactly one operation");
      if (values["dry-run"] && values.live) throw new UsageError("--dry-run and --live exclude each other");
      const body = {
        requestId,
        caller,
        repo: required(values.repo, "--repo"),
        operation,
        ...(values["dry-run"] && { dryRun: true }),
        ...(values.live && { dryRun: false }),
        params: brokerParams(values),
      };
      return relayUrl ? { url: `${relayUrl}/relay/v1/github/gh`, audience: brokerAudience, body } : null;
    }
    case "pr-preflight": {
      if (operation) throw new UsageError("pr-preflight takes no positional arguments");
      const body = {
        requestId,
        caller,
        repo: required(values.repo, "--repo"),
        base: required(values.base, "--base"),
        head: required(values.head, "--head"),
        ...(values.issue !== undefined && { issueNumber: integer(values.issue, "--issue") }),
        includePrCreateDryRun: values["include-pr-create-dry-run"] ?? false,
        includePushDryRun: values["include-push-dry-run"] ?? false,
      };
      return relayUrl ? { url: `${relayUrl}/relay/v1/github/pr-preflight`, audience: brokerAudience, body } : null;
    }
    case "callback":
      if (operation) throw new UsageError("callback takes no positional arguments");
      return planCallback(values, env, relayUrl);
    default:
      throw new UsageError(command ? `unknown command ${command}` : "a command is required");
  }
}

function brokerParams(values: Values): Record<string, unknown> {
  const fields = values["json-fields"]?.split(",").map((field) => field.trim()).filter(Boolean);
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
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}

/** Callbacks report to the URL and with the relay token that came in the dispatch's client_payload. */
async function planCallback(values: Values, env: NodeJS.ProcessEnv, relayUrl: string | undefined): Promise<Post | null> {
  const status = required(values.status, "--status");
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!eventPath) throw new UsageError("GITHUB_EVENT_PATH is not set: callback runs inside a repository_dispatch job");
  const event = JSON.parse(await readFile(eventPath, "utf8")) as { client_payload?: Record<string, unknown> };
  const payload = event.client_payload ?? {};
  const relay = (payload.relay ?? {}) as { callback_url?: string; callback_token?: string };
  const url = relay.callback_url ?? (relayUrl ? `${relayUrl}/relay/v1/callback` : undefined);
  if (!url) return null;
  const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
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
        test_results: values["test-results"] === undefined ? undefined : (JSON.parse(values["test-results"]) as unknown),
        artifact_url: values["artifact-url"],
        summary: values.summary,
      },
    },
  };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

function integer(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a positive integer`);
  return Number(value);
}
