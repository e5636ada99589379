/**
 * doctor/ owns `ci-relay doctor`'s checks of a downstream: the app's access (read-only GitHub calls)
 * and whether its workflow takes the relay's dispatches and calls back, each as a line saying what to do.
 */
import type { Downstream } from "../config/types";
import type { WorkflowFacts } from "./inspect-workflow";

/** One line of `ci-relay doctor`: what was checked, whether it holds, and what to do when it does not. */
export interface Finding {
  check: "config" | "installation" | "permissions" | "workflow" | "event-types" | "id-token" | "action" | "run-scope";
  ok: boolean;
  detail: string;
  /** only on problems */
  fix?: string;
}

export interface DownstreamEvidence {
  repo: string;
  /** the config's entry for the repo; null when it has none */
  downstream: Downstream | null;
  /** null: the app is not installed on the repo */
  installation: { id: number; permissions: Record<string, string> } | null;
  /** the repo's workflow files; null when they could not be listed */
  workflows: WorkflowFacts[] | null;
}

/** What the relay needs on a downstream: `repository_dispatch` needs contents write. */
const NEEDED_PERMISSIONS: Record<string, "read" | "write"> = { contents: "write", metadata: "read" };
const RANK = { read: 1, write: 2 } as const;

const grants = (have: string | undefined, need: "read" | "write") =>
  have !== undefined && (RANK[have as keyof typeof RANK] ?? 0) >= RANK[need];

/** A ref is pinned when it is a full commit SHA; a branch moves under the workflow. */
const isPinned = (uses: string) => /@[0-9a-f]{40}$/.test(uses);

/** Pure: every finding for one downstream, in the order a user fixes them. */
export function diagnoseDownstream(evidence: DownstreamEvidence): Finding[] {
  const { repo, downstream, installation, workflows } = evidence;
  const findings: Finding[] = [];
  findings.push(
    downstream
      ? {
          check: "config",
          ok: true,
          detail: `${repo} is a downstream at ${downstream.level} (transport ${downstream.transport}, events ${downstream.events.join(", ")})`,
        }
      : {
          check: "config",
          ok: false,
          detail: `${repo} is not among the relay config's downstreams`,
          fix: `add "- { repo: ${repo}, level: L2 }" under downstreams: in the relay config`,
        },
  );
  if (downstream?.transport === "queue") {
    findings.push({
      check: "workflow",
      ok: true,
      detail: "transport: queue takes job requests from Redis; no workflow or installation is needed on the repository",
    });
    return findings;
  }
  if (!installation) {
    findings.push({
      check: "installation",
      ok: false,
      detail: `the app is not installed on ${repo}`,
      fix: `install the GitHub App on ${repo} (the app's settings, Install App)`,
    });
    return findings;
  }
  findings.push({ check: "installation", ok: true, detail: `installed (installation ${installation.id})` });
  const missing = Object.entries(NEEDED_PERMISSIONS).filter(
    ([name, need]) => !grants(installation.permissions[name], need),
  );
  findings.push(
    missing.length === 0
      ? {
          check: "permissions",
          ok: true,
          detail: Object.entries(NEEDED_PERMISSIONS)
            .map(([name, need]) => `${name}: ${installation.permissions[name] ?? need}`)
            .join(", "),
        }
      : {
          check: "permissions",
          ok: false,
          detail: `missing ${missing.map(([name, need]) => `${name}: ${need}`).join(", ")} (repository_dispatch needs contents: write)`,
          fix: "grant it in the app's permissions, then accept the new permissions on the installation",
        },
  );
  if (workflows === null) {
    findings.push({
      check: "workflow",
      ok: false,
      detail: "the workflows in .github/workflows could not be read",
      fix: "give the app contents: read on the repository",
    });
    return findings;
  }
  const listening = workflows.filter((workflow) => workflow.listensToDispatch);
  if (listening.length === 0) {
    findings.push({
      check: "workflow",
      ok: false,
      detail: `no workflow in .github/workflows listens for repository_dispatch (${workflows.length} read)`,
      fix: "add a workflow with on: { repository_dispatch: { types: [pull_request, push] } } (README: Report results from a downstream workflow)",
    });
    return findings;
  }
  findings.push({
    check: "workflow",
    ok: true,
    detail: `listening: ${listening.map((workflow) => workflow.path).join(", ")}`,
  });
  const sent = downstream?.events ?? ["pull_request", "push"];
  const unheard = sent.filter(
    (type) => !listening.some((workflow) => workflow.dispatchTypes === null || workflow.dispatchTypes.includes(type)),
  );
  findings.push(
    unheard.length === 0
      ? { check: "event-types", ok: true, detail: `every event type the relay sends here is taken: ${sent.join(", ")}` }
      : {
          check: "event-types",
          ok: false,
          detail: `no workflow takes event type ${unheard.join(", ")}`,
          fix: `add ${unheard.join(", ")} to on.repository_dispatch.types`,
        },
  );
  if (downstream?.level === "L1") {
    findings.push({
      check: "action",
      ok: true,
      detail: "L1: callbacks are answered ignored, so no callback step is needed",
    });
    return findings;
  }
  const reporting = listening.filter((workflow) => workflow.actionRefs.length > 0);
  if (reporting.length === 0) {
    findings.push({
      check: "action",
      ok: false,
      detail: "no listening workflow calls the callback action",
      fix: "add steps uses: <ci-relay repo>/action@<sha> with status: in_progress, then with status: completed (if: always())",
    });
    return findings;
  }
  const refs = [...new Set(reporting.flatMap((workflow) => workflow.actionRefs))];
  const floating = refs.filter((uses) => !isPinned(uses));
  findings.push(
    floating.length === 0
      ? { check: "action", ok: true, detail: `pinned: ${refs.join(", ")}` }
      : {
          check: "action",
          ok: true,
          detail: `${refs.join(", ")} (a branch or tag: pin a commit SHA to be sure what runs)`,
        },
  );
  const withoutToken = reporting.filter((workflow) => !workflow.idTokenWrite);
  findings.push(
    withoutToken.length === 0
      ? { check: "id-token", ok: true, detail: "id-token: write where the callback action runs" }
      : {
          check: "id-token",
          ok: false,
          detail: `${withoutToken.map((workflow) => workflow.path).join(", ")}: the callback's job lacks id-token: write, so it gets no OIDC token`,
          fix: "add permissions: { id-token: write, contents: read } to the workflow (or to each job that reports)",
        },
  );
  if (downstream?.level === "L4") {
    findings.push(
      reporting.some((workflow) => workflow.reportsRunScope)
        ? { check: "run-scope", ok: true, detail: "a step reports with scope: run, which concludes the L4 check" }
        : {
            check: "run-scope",
            ok: false,
            detail: "L4 and no step reports with scope: run: the downstream's check ends timed_out",
            fix: "add a last step (if: always()) with status: completed, scope: run, conclusion: ${{ job.status }}",
          },
    );
  }
  return findings;
}
