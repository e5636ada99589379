import { request as httpRequest } from "node:http";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Redis from "ioredis";
import type { FailureBody } from "../../src/errors/failure-kinds";
import type { HudRecord } from "../../src/hud/hud-record";
import type { ClientPayload } from "../../src/relay/build-client-payload";
import { RedisStore } from "../../src/store/redis-store";
import { clientPayloadOf, startFakeGitHub, type FakeGitHub } from "./fake-github";
import { startOidcIssuer, type OidcIssuer } from "./oidc-issuer";
import { testRedisUrl } from "./redis-prefix";
import { parseJson } from "./read-json";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "./server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "./webhooks";

/**
 * What the callback and action e2e suites share: a relay wired to a fake GitHub, a local OIDC issuer
 * and a HUD sink, and helpers to get a real dispatch (with its relay token) and to call back.
 */

export const RELAY_TOKEN_SECRET = "callback-e2e-relay-token-secret-0123456789";
const UPSTREAM_INSTALLATION = 11;

export interface HudRow {
  headers: IncomingHttpHeaders;
  body: HudRecord;
}

/** What PyTorch's HUD (`torchci/pages/api/crcr/results.ts`) accepts: at most 2 MB of JSON. */
export const HUD_MAX_BYTES = 2 * 1024 * 1024;

export interface HudSink {
  url: string;
  /** every record the HUD accepted, in arrival order */
  rows: HudRow[];
  /**
   * The HUD's table: one row per `verified_repo/delivery_id/workflow.name/job_name/check_run_id`,
   * each record's set fields written over the row's (PyTorch's DynamoDB UpdateItem).
   */
  table: Map<string, Record<string, unknown>>;
  /** records refused as PyTorch's HUD refuses them (413, 400), with its message */
  rejected: { status: number; error: string }[];
  /** answered 503 while down; rows are recorded only when accepted */
  setDown(down: boolean): void;
  refused(): number;
  close(): Promise<void>;
}

/**
 * A stand-in for PyTorch's HUD endpoint that enforces what it enforces: the size limit, the fields it
 * requires (`workflow.job_name`, `workflow.check_run_id`) and its upsert key.
 */
export async function startHudSink(): Promise<HudSink> {
  const rows: HudRow[] = [];
  const table = new Map<string, Record<string, unknown>>();
  const rejected: { status: number; error: string }[] = [];
  let down = false;
  let refused = 0;
  const refuse = (response: ServerResponse, status: number, error: string) => {
    rejected.push({ status, error });
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error }));
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (down) {
        refused++;
        response.writeHead(503).end("down");
        return;
      }
      const raw = Buffer.concat(chunks);
      if (raw.length > HUD_MAX_BYTES) return refuse(response, 413, "Payload exceeds 2MB limit");
      // Read as the relay means to send it; the checks below are the HUD's own, not type checks.
      const body = JSON.parse(raw.toString("utf8")) as HudRecord | null;
      const callback = body?.untrusted?.callback_payload;
      const workflow: Record<string, unknown> = callback?.workflow ?? {};
      if (!body || !callback || !workflow.job_name)
        return refuse(response, 400, "Missing required field: workflow.job_name");
      if (workflow.check_run_id == null) return refuse(response, 400, "Missing required field: workflow.check_run_id");
      const key = `${body.trusted.verified_repo}/${callback.delivery_id}/${workflow.name}/${workflow.job_name}/${String(workflow.check_run_id)}`;
      const fields = Object.fromEntries(
        Object.entries({
          status: workflow.status,
          conclusion: workflow.status === "completed" ? workflow.conclusion : undefined,
          pr_number: callback.payload?.pull_request?.number ?? 0,
          pytorch_head_sha: callback.payload?.pull_request?.head?.sha ?? callback.payload?.head_sha,
          upstream_repo: callback.payload?.repository?.full_name,
          event_type: callback.event_type,
          run_attempt: Number(workflow.run_attempt ?? 1),
          queue_time: body.trusted.ci_metrics?.queue_time ?? undefined,
          execution_time: body.trusted.ci_metrics?.execution_time ?? undefined,
        }).filter(([, value]) => value !== undefined),
      );
      table.set(key, { ...table.get(key), ...fields });
      rows.push({ headers: request.headers, body });
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ ok: true, status: workflow.status, dynamoKey: key }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/records`,
    rows,
    table,
    rejected,
    setDown: (value) => {
      down = value;
    },
    refused: () => refused,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CallbackWorld {
  github: FakeGitHub;
  issuer: OidcIssuer;
  hud: HudSink;
  relay: RelayServer;
  /** the relay's own records, through the store it uses */
  store: RedisStore;
  /** raw access, under the relay's prefix, for what the store does not ask: TTLs and key scans */
  redis: Redis;
  close(): Promise<void>;
}

export const HUD_TOKEN = "hud-bot-token-for-tests";

export async function startCallbackWorld(
  configYaml: string,
  repos: string[],
  env: Record<string, string> = {},
  options: { nodeArgs?: string[] } = {},
): Promise<CallbackWorld> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
  repos.forEach((repo, i) => github.addInstallation({ id: 100 + i, account: repo.split("/")[0], repos: [repo] }));
  const issuer = await startOidcIssuer();
  const hud = await startHudSink();
  const relay = await startRelayServer({
    fakeGitHub: github,
    configYaml,
    env: {
      RELAY_TOKEN_SECRET,
      OIDC_ISSUER: issuer.url,
      HUD_URL: hud.url,
      HUD_TOKEN,
      OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
      ...env,
    },
    nodeArgs: options.nodeArgs,
  });
  const store = new RedisStore(testRedisUrl(), relay.redisPrefix);
  const redis = new Redis(testRedisUrl(), { keyPrefix: relay.redisPrefix, lazyConnect: true });
  await redis.connect();
  return {
    github,
    issuer,
    hud,
    relay,
    store,
    redis,
    async close() {
      await store.close();
      redis.disconnect();
      await relay.stop();
      await cleanupRedisPrefix(relay.redisPrefix);
      await Promise.all([github.close(), issuer.close(), hud.close()]);
    },
  };
}

export interface Dispatched {
  requestId: string;
  callbackToken: string;
  clientPayload: ClientPayload;
}

let deliveries = 0;

/** Sends a PR webhook and returns what the relay dispatched to each repo in `repos`. */
export async function dispatchPr(world: CallbackWorld, repos: string[]): Promise<Record<string, Dispatched>> {
  const deliveryId = `cb-${process.pid}-${++deliveries}-${randomSha().slice(0, 8)}`;
  const payload = pullRequestEvent("opened", {
    repo: "pytorch/pytorch",
    installationId: UPSTREAM_INSTALLATION,
    authorAssociation: "MEMBER",
    number: 100 + deliveries,
    headSha: randomSha(),
  });
  const answer = await sendWebhook(world.relay.baseUrl, { event: "pull_request", payload, deliveryId });
  if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}`);
  const result: Record<string, Dispatched> = {};
  for (const repo of repos) {
    const request = await world.github.waitFor(
      (r) =>
        r.path === `/repos/${repo}/dispatches` && r.status === 204 && clientPayloadOf(r)?.delivery_id === deliveryId,
    );
    const clientPayload = clientPayloadOf(request);
    if (clientPayload === undefined) throw new Error(`the dispatch to ${repo} carried no client_payload`);
    result[repo] = {
      requestId: clientPayload.relay.request_id,
      callbackToken: clientPayload.relay.callback_token,
      clientPayload,
    };
  }
  return result;
}

export function workflowReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: "1",
    status: "in_progress",
    conclusion: null,
    scope: "job",
    name: "CI",
    url: "https://github.com/vendor/backend/actions/runs/4242",
    run_id: "4242",
    run_attempt: "1",
    job_name: "build",
    check_run_id: "9001",
    ...overrides,
  };
}

/**
 * The callback's answer (SPEC §4): `ok` with the job's new state (a nightly report's may be
 * `status: "ignored"`), or the SPEC §5 refusal. One type with the fields of both, so a test reads
 * either without narrowing first; every answer carries its `requestId`.
 */
export type CallbackAnswerJson = Pick<FailureBody, "requestId"> &
  Partial<Omit<FailureBody, "ok" | "requestId">> & {
    ok: boolean;
    dispatchId?: string | null;
    state?: string;
    duplicate?: boolean;
    status?: string;
  };

export interface Answer {
  status: number;
  text: string;
  json: CallbackAnswerJson;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * POSTs a callback through node:http, so a test can send exactly the headers it wants (two
 * Authorization lines, none) and a raw body.
 */
export function postCallback(
  world: CallbackWorld,
  options: { authorization?: string[]; body: string | Record<string, unknown> },
): Promise<Answer> {
  const body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string | string[]> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
  };
  // An array becomes one header line per value: how a test sends two Authorization lines.
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  return new Promise((resolve, reject) => {
    const request = httpRequest(world.relay.url("/relay/v1/callback"), { method: "POST", headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = response.statusCode ?? 0;
        try {
          resolve({ status, text, json: parseJson<CallbackAnswerJson>(text), headers: response.headers });
        } catch {
          // Every callback answer is JSON (SPEC §5 for refusals): anything else is a broken contract.
          reject(new Error(`the callback answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** A callback as the composite action sends it: a fresh OIDC token for `repository`. */
export async function callBack(
  world: CallbackWorld,
  dispatched: Pick<Dispatched, "callbackToken">,
  workflow: Record<string, unknown>,
  repository: string,
): Promise<Answer> {
  const oidc = await world.issuer.mint({ repository });
  return postCallback(world, {
    authorization: [`Bearer ${oidc}`],
    body: { relay_token: dispatched.callbackToken, workflow },
  });
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`);
}
