import { z } from "zod";
import { repoName } from "../config/repo-name";
import { brokerGrants, brokerRoute, callerSchema, denial, invalidBody, type BrokerDeps } from "./broker-route";
import { CREDENTIAL_REF } from "./github-operation-route";
import { tokenFailure } from "./github-failure";
import { grantsFor, matchGrant } from "./match-grant";
import { branchName, OPERATIONS } from "./operations";
import { planRequest } from "./plan-request";
import { sendGitHubCall } from "./send-github-call";

const preflightRequest = z.strictObject({
  requestId: z.uuid(),
  caller: callerSchema.optional(),
  repo: repoName,
  base: branchName,
  head: branchName,
  issueNumber: z.int().min(1).optional(),
  includePrCreateDryRun: z.boolean().default(false),
  includePushDryRun: z.boolean().default(false),
});

const PREFLIGHT_TITLE = "ci-relay preflight";

/**
 * SPEC §6 `POST /relay/v1/github/pr-preflight`: tells a runner, before it does any work, whether it
 * can get a PR through the broker for `repo` — which operations it holds, that no token is needed on
 * the runner — and proves the app can reach the repository. It never creates, pushes or merges.
 */
export function prPreflightRoute(deps: BrokerDeps) {
  return brokerRoute(deps, async ({ body, identity, context, facts }) => {
    const parsed = preflightRequest.safeParse(body);
    if (!parsed.success) throw invalidBody(parsed.error);
    const request = parsed.data;
    context.requestId = request.requestId;
    Object.assign(facts, { operation: "github.pr.preflight", repo: request.repo, resource: "repo", dryRun: true });

    const grants = await brokerGrants(deps);
    const decision = matchGrant(grants, identity, request.repo, "github.pr.create");
    if (!decision.allowed && decision.kind !== "operation-not-allowed") {
      throw denial(decision.kind, request.repo);
    }
    const operations = [
      ...new Set(grantsFor(grants, identity, request.repo).flatMap((grant) => grant.operations)),
    ].sort();

    const [owner, name] = request.repo.split("/");
    const probe = OPERATIONS["github.auth.status"].calls({ owner, name }, {}, request.requestId).at(-1);
    if (probe === undefined) throw new Error("github.auth.status makes no repository call");
    facts.upstream = { method: probe.method, path: probe.path };
    facts.credentialRef = CREDENTIAL_REF;
    const client = await deps.github
      .forRepo(request.repo, OPERATIONS["github.auth.status"].permissions)
      .catch((error: unknown) => {
        throw tokenFailure(error);
      });
    await sendGitHubCall(client, probe);

    const prCreate = OPERATIONS["github.pr.create"];
    const plannedCall = prCreate.calls(
      { owner, name },
      { title: PREFLIGHT_TITLE, head: request.head, base: request.base },
      request.requestId,
    )[0];
    return {
      body: {
        ok: true,
        requestId: request.requestId,
        runnerDisposition: "ready",
        failureKind: null,
        degradedReason: null,
        tokenCoverage: {
          ok: true,
          source: "ci-relay",
          scope: "app-installation",
          runnerEnvTokenRequired: false,
          valuesPrinted: false,
        },
        prCapabilityContract: {
          targetBranch: request.base,
          systemGhBinaryRequiredForWrites: false,
          preflightCreatesPr: false,
          preflightMergesPr: false,
          brokerProxy: { ok: operations.length > 0, operations, writesRemote: false },
        },
        pushDryRun: { runnerLocal: true },
        ...(request.includePrCreateDryRun && {
          prCreateDryRun: decision.allowed
            ? { ok: true, planned: planRequest(plannedCall), writesRemote: false, live: decision.live }
            : { ok: false, failureKind: "operation-not-allowed", writesRemote: false },
        }),
      },
    };
  });
}
