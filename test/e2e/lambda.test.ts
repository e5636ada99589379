import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import Redis from "ioredis";
import type { FailureBody } from "../../src/errors/failure-kinds";
import { handler as httpHandler } from "../../src/lambda/http";
import { closeLambdaRelay } from "../../src/lambda/lambda-relay";
import { handler as scheduledHandler } from "../../src/lambda/scheduled";
import { handler as webhookHandler } from "../../src/lambda/webhook";
import { apiGatewayEvent, lambdaContext, scheduledEvent, type HttpRequest } from "../fixtures/lambda/lambda-events";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { startOidcIssuer, type OidcIssuer } from "../support/oidc-issuer";
import { parseJson } from "../support/read-json";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";
import { pullRequestEvent, randomSha, sign, TEST_WEBHOOK_SECRET } from "../support/webhooks";

/**
 * The three Lambda handlers invoked in-process, as the Lambda runtime would, with API Gateway HTTP
 * API (2.0) and EventBridge events, against the fake GitHub and a real Redis.
 */

const DOWNSTREAMS = ["vendor/backend", "other/farm"];
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
  - { repo: other/farm, level: L2 }
`;
const LAMBDA_TIMEOUT_MS = 29_000;

let github: FakeGitHub;
let issuer: OidcIssuer;
let configDir: string;
const prefix = uniqueRedisPrefix();
const savedEnv = { ...process.env };
let prNumber = 100;

function webhookRequest(
  deliveryId: string,
  options: { body?: string; signature?: string | null; base64?: boolean } = {},
): HttpRequest {
  const body =
    options.body ??
    JSON.stringify(
      pullRequestEvent("opened", {
        repo: "pytorch/pytorch",
        installationId: 11,
        authorAssociation: "MEMBER",
        number: ++prNumber,
        headSha: randomSha(),
      }),
    );
  const signature = options.signature === undefined ? sign(body, TEST_WEBHOOK_SECRET) : options.signature;
  return {
    method: "POST",
    path: "/api/github/webhooks",
    headers: {
      "x-github-event": "pull_request",
      "x-github-delivery": deliveryId,
      "x-github-hook-installation-target-type": "integration",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
    },
    body,
    base64: options.base64,
  };
}

const sendWebhook = (request: HttpRequest, remainingMs = LAMBDA_TIMEOUT_MS) =>
  webhookHandler(apiGatewayEvent(request), lambdaContext(remainingMs)) as Promise<APIGatewayProxyStructuredResultV2>;
const callHttp = (request: HttpRequest) => httpHandler(apiGatewayEvent(request), lambdaContext(LAMBDA_TIMEOUT_MS));
const dispatchesOf = (deliveryId: string) =>
  github.dispatches().filter((d) => (d.clientPayload as { delivery_id?: string }).delivery_id === deliveryId);

beforeAll(async () => {
  github = await startFakeGitHub();
  github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
  DOWNSTREAMS.forEach((repo, i) => github.addInstallation({ id: 21 + i, account: repo.split("/")[0], repos: [repo] }));
  issuer = await startOidcIssuer();
  configDir = mkdtempSync(join(tmpdir(), "ci-relay-lambda-"));
  writeFileSync(join(configDir, "relay.yml"), CONFIG);
  Object.assign(process.env, {
    APP_ID: String(github.appId),
    PRIVATE_KEY: testAppCredentials().privateKeyPem,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    RELAY_CONFIG: join(configDir, "relay.yml"),
    RELAY_PUBLIC_URL: "https://relay.example.test",
    RELAY_TOKEN_SECRET: "lambda-e2e-relay-token-secret-0123456789abcdef",
    OIDC_ISSUER: issuer.url,
    LOG_LEVEL: "silent",
  });
});

afterAll(async () => {
  await closeLambdaRelay();
  process.env = savedEnv;
  await cleanupRedisPrefix(prefix);
  await Promise.all([github?.close(), issuer?.close()]);
  rmSync(configDir, { recursive: true, force: true });
});

describe("webhook function", () => {
  it("stores a signed delivery and dispatches it to every downstream before answering", async () => {
    const answer = await sendWebhook(webhookRequest("lambda-signed"));
    expect(answer.statusCode).toBe(200);
    expect(DOWNSTREAMS.map((repo) => dispatchesOf("lambda-signed").filter((d) => d.repo === repo).length)).toEqual([
      1, 1,
    ]);
  });

  it("decodes a base64 body before checking its signature", async () => {
    const answer = await sendWebhook(webhookRequest("lambda-base64", { base64: true }));
    expect(answer.statusCode).toBe(200);
    expect(dispatchesOf("lambda-base64")).toHaveLength(2);
  });

  it("answers a bad or missing signature with 400 and dispatches nothing", async () => {
    const forged = await sendWebhook(webhookRequest("lambda-forged", { signature: sign("{}", "wrong-secret") }));
    const unsigned = await sendWebhook(webhookRequest("lambda-unsigned", { signature: null }));
    expect([forged.statusCode, unsigned.statusCode]).toEqual([400, 400]);
    expect([...dispatchesOf("lambda-forged"), ...dispatchesOf("lambda-unsigned")]).toEqual([]);
  });

  it("answers malformed JSON with 400 and an oversized body with 413", async () => {
    const malformed = await sendWebhook(webhookRequest("lambda-malformed", { body: "{not json" }));
    const oversized = await sendWebhook(
      webhookRequest("lambda-oversized", { body: JSON.stringify({ padding: "x".repeat(26 * 1024 * 1024) }) }),
    );
    expect([malformed.statusCode, oversized.statusCode]).toEqual([400, 413]);
  });

  it("answers validly signed bodies Probot cannot handle with a SPEC §5 400, never a 500", async () => {
    const deep = `{"a":${"[".repeat(5_000)}${"]".repeat(5_000)}}`;
    const badInstallation = JSON.stringify({ action: "opened", installation: { id: "eleven" } });
    const answers = await Promise.all(
      ["null", '""', "0", "-1", '"x"', deep, badInstallation].map((body, i) =>
        sendWebhook(webhookRequest(`lambda-unusable-${i}`, { body })),
      ),
    );
    const emptyEvent = webhookRequest("lambda-empty-event");
    answers.push(await sendWebhook({ ...emptyEvent, headers: { ...emptyEvent.headers, "x-github-event": "" } }));
    for (const answer of answers) {
      expect({
        status: answer.statusCode,
        failureKind: parseJson<Partial<FailureBody>>(answer.body ?? "{}").failureKind,
      }).toEqual({ status: 400, failureKind: "validation-failed" });
    }
  });
});

describe("http function", () => {
  it("answers a path no route serves with a JSON 404", async () => {
    const answer = await callHttp({ method: "GET", path: "/relay/nowhere" });
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body ?? "{}")).toMatchObject({ ok: false, failureKind: "route-not-found" });
  });

  it("verifies a downstream callback and moves its dispatch to in progress", async () => {
    await sendWebhook(webhookRequest("lambda-callback"));
    const [dispatch] = dispatchesOf("lambda-callback").filter((d) => d.repo === "vendor/backend");
    const relayToken = (dispatch.clientPayload as { relay: { callback_token: string } }).relay.callback_token;
    const oidc = await issuer.mint({ repository: "vendor/backend" });
    const answer = await callHttp({
      method: "POST",
      path: "/relay/v1/callback",
      headers: { authorization: `Bearer ${oidc}` },
      body: JSON.stringify({
        relay_token: relayToken,
        workflow: {
          status: "in_progress",
          scope: "job",
          name: "CI",
          run_id: "4242",
          run_attempt: "1",
          job_name: "build",
          url: "https://github.com/vendor/backend/actions/runs/4242",
        },
      }),
    });
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body ?? "{}")).toMatchObject({ ok: true, state: "IN_PROGRESS", duplicate: false });
  });

  it("refuses a callback without credentials, as the server does", async () => {
    const answer = await callHttp({
      method: "POST",
      path: "/relay/v1/callback",
      body: JSON.stringify({ relay_token: "x" }),
    });
    expect(answer.statusCode).toBe(401);
  });

  it("serves health and metrics from the same routes as the server", async () => {
    const health = await callHttp({ method: "GET", path: "/relay/health" });
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body ?? "{}")).toMatchObject({
      ok: true,
      store: { kind: "redis", ok: true },
      config: { loaded: true },
    });
    const metrics = await callHttp({ method: "GET", path: "/relay/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain("# TYPE");
  });
});

describe("scheduled function", () => {
  it("drains outbox work a webhook invocation had no time left for", async () => {
    // No time left in the invocation: the delivery is stored, nothing is sent.
    expect((await sendWebhook(webhookRequest("lambda-left-over"), 0)).statusCode).toBe(200);
    expect(dispatchesOf("lambda-left-over")).toEqual([]);
    const outcome = await scheduledHandler(scheduledEvent(), lambdaContext(120_000));
    expect(outcome.ran).toBeGreaterThanOrEqual(2);
    expect(
      dispatchesOf("lambda-left-over")
        .map((d) => d.repo)
        .sort(),
    ).toEqual([...DOWNSTREAMS].sort());
    expect((await scheduledHandler(scheduledEvent(), lambdaContext(120_000))).ran).toBe(0);
  });
});

describe("scheduled function and missed deliveries", () => {
  /** What a minute passing does for the once-a-minute lock, without the minute. */
  const letAMinutePass = async () => {
    const redis = new Redis(testRedisUrl());
    try {
      await redis.del(`${prefix}relay:redeliver:lock`);
    } finally {
      redis.disconnect();
    }
  };

  it("asks GitHub once to redeliver a delivery that failed and was never stored, not again when that fails too", async () => {
    // The App's webhook points nowhere: the delivery, and later its redelivery, fail to connect.
    const missed = await github.hooks.deliver(
      "pull_request",
      { action: "opened", installation: { id: 11 } },
      "lambda-missed",
    );
    expect(missed.statusCode).toBe(0);
    await letAMinutePass();
    expect((await scheduledHandler(scheduledEvent(), lambdaContext(120_000))).redeliveries).toBe(1);
    expect(github.hooks.redeliveryRequests).toEqual([missed.id]);
    await github.hooks.settle();
    expect(
      github.hooks.deliveries.filter((d) => d.guid === "lambda-missed" && d.redelivery && d.statusCode === 0),
    ).toHaveLength(1);

    await letAMinutePass();
    expect((await scheduledHandler(scheduledEvent(), lambdaContext(120_000))).redeliveries).toBe(0);
    expect(github.hooks.redeliveryRequests).toEqual([missed.id]);
  });
});

describe("a container whose config is not loaded yet", () => {
  beforeAll(async () => {
    await closeLambdaRelay();
    process.env.RELAY_CONFIG = "github:pytorch/pytorch/.github/relay.yml";
  });
  afterAll(async () => {
    await closeLambdaRelay();
    process.env.RELAY_CONFIG = join(configDir, "relay.yml");
  });

  it("answers webhooks 503 so GitHub's redelivery brings them back", async () => {
    const answer = await sendWebhook(webhookRequest("lambda-no-config"));
    expect(answer.statusCode).toBe(503);
    expect(dispatchesOf("lambda-no-config")).toEqual([]);
  });
});
