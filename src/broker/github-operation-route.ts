import { createHash } from "node:crypto";
import { z } from "zod";
import { repoName } from "../config/repo-name";
import { RelayError } from "../errors/failure-kinds";
import { brokerGrants, brokerRoute, callerSchema, denial, invalidBody, type BrokerDeps } from "./broker-route";
import { githubFailure, tokenFailure } from "./github-failure";
import { NO_RETRY, sendGitHubCall, type Octokit } from "./send-github-call";
import { idempotentWrite } from "./idempotent-write";
import { matchGrant } from "./match-grant";
import { findOperation, requestMarker, type BrokerOperation, type GitHubCall } from "./operations";
import { planRequest, requestBody } from "./plan-request";
import { selectFields } from "./select-fields";

/** Marks the installation token as the credential used, by reference: its value never leaves the server. */
export const CREDENTIAL_REF = "github-app:installation-token";

const operationRequest = z.strictObject({
  requestId: z.uuid(),
  caller: callerSchema.default({ plane: "ci", taskId: null, queueId: null }),
  repo: repoName,
  operation: z.string().min(1).max(100),
  dryRun: z.boolean().optional(),
  params: z.record(z.string(), z.unknown()).default(() => ({})),
});

/** SPEC §6 `POST /relay/v1/github/gh`: one operation of the table, for a granted identity. */
export function githubOperationRoute(deps: BrokerDeps) {
  return brokerRoute(deps, async ({ body, identity, context, facts }) => {
    const parsed = operationRequest.safeParse(body);
    if (!parsed.success) throw invalidBody(parsed.error);
    const request = parsed.data;
    context.requestId = request.requestId;
    Object.assign(facts, { caller: request.caller, operation: request.operation, repo: request.repo });

    const operation = findOperation(request.operation);
    if (operation === null)
      throw new RelayError("operation-not-allowed", "no such broker operation", "operation-unknown");
    const params = operation.params.safeParse(request.params);
    if (!params.success) throw invalidBody(params.error, "params");
    const dryRun = request.dryRun ?? operation.writes;
    facts.resource = operation.resource(params.data);
    facts.dryRun = dryRun;

    const decision = matchGrant(await brokerGrants(deps), identity, request.repo, request.operation);
    if (!decision.allowed) throw denial(decision.kind, request.repo, request.operation);

    const [owner, name] = request.repo.split("/");
    const calls = operation.calls({ owner, name }, params.data, request.requestId);
    const answer = { ok: true, requestId: request.requestId, operation: request.operation, repo: request.repo, dryRun };
    const primary = calls[calls.length - 1];
    facts.upstream = { method: primary.method, path: primary.path };
    // A write is audited by what it sends (or would send) to GitHub: the same hash as `planned`.
    if (operation.writes) facts.body = Buffer.from(requestBody(primary) ?? "", "utf8");

    if (operation.writes && dryRun) return { body: { ...answer, planned: planRequest(primary), writesRemote: false } };
    if (operation.writes && !decision.live) {
      throw new RelayError(
        "dry-run-required",
        `${request.operation} may only be planned (dryRun: true) for this caller`,
        "live-not-granted",
      );
    }

    facts.credentialRef = CREDENTIAL_REF;
    const client = await deps.github.forRepo(request.repo, operation.permissions).catch((error: unknown) => {
      throw tokenFailure(error);
    });
    if (!operation.writes) {
      const responses: unknown[] = [];
      for (const call of calls) responses.push(await sendGitHubCall(client, call));
      const fields = (params.data as { jsonFields?: string[] }).jsonFields;
      return { body: { ...answer, data: selectFields(operation.data(responses), fields) } };
    }

    const { result, replay } = await idempotentWrite(
      {
        store: deps.store,
        callerRepository: identity.repository,
        requestId: request.requestId,
        fingerprint: createHash("sha256")
          .update(JSON.stringify([request.operation, request.repo.toLowerCase(), params.data]))
          .digest("hex"),
      },
      async () => ({
        ...answer,
        data: await writeOnce(client, operation, { owner, name }, params.data, primary, request.requestId),
        writesRemote: true,
      }),
    );
    return { body: replay ? { ...result, idempotentReplay: true } : result };
  });
}

/** An earlier attempt that reached GitHub but not the store left its marker: answer with what it made. */
async function writeOnce(
  client: Octokit,
  operation: BrokerOperation,
  target: { owner: string; name: string },
  params: Record<string, unknown>,
  write: GitHubCall,
  requestId: string,
): Promise<unknown> {
  if (operation.existing) {
    const list = operation.existing(target, params);
    const marker = requestMarker(requestId);
    try {
      const items = await client.paginate(`GET ${list.path}`, { ...list.query, ...NO_RETRY });
      const earlier = (items as { body?: unknown }[]).find(
        (item) => typeof item.body === "string" && item.body.includes(marker),
      );
      if (earlier) return earlier;
    } catch (error) {
      throw githubFailure(error);
    }
  }
  return sendGitHubCall(client, write);
}
