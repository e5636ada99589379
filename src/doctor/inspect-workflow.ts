import { parse } from "yaml";

/** What a downstream workflow file says about how it takes the relay's dispatches. */
export interface WorkflowFacts {
  path: string;
  /** the file parsed as YAML with an `on:` */
  valid: boolean;
  listensToDispatch: boolean;
  /** `on.repository_dispatch.types`; null: every type */
  dispatchTypes: string[] | null;
  /** `id-token: write` for the whole workflow, or for every job that calls the callback action */
  idTokenWrite: boolean;
  /** `uses:` of steps that call the relay's callback action (or CRCR's), in file order */
  actionRefs: string[];
  /** some step reports with `scope: run` (what concludes an L4 downstream's check) */
  reportsRunScope: boolean;
}

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** The callback action of this repository (`…/action@ref`) or CRCR's drop-in (`…/cross-repo-ci-relay-callback@ref`). */
export const isCallbackAction = (uses: string) =>
  /(^|\/)(ci-relay\/action|action|cross-repo-ci-relay-callback)@/.test(uses) && !uses.startsWith("./");

function grantsIdToken(permissions: unknown): boolean {
  if (permissions === "write-all") return true;
  return isMapping(permissions) && permissions["id-token"] === "write";
}

/** `on:` in its three forms: a name, a list of names, or a mapping of names to settings. */
function dispatchTrigger(on: unknown): { listens: boolean; types: string[] | null } {
  if (on === "repository_dispatch") return { listens: true, types: null };
  if (Array.isArray(on)) return { listens: on.includes("repository_dispatch"), types: null };
  if (!isMapping(on) || !("repository_dispatch" in on)) return { listens: false, types: null };
  const settings = on.repository_dispatch;
  const types = isMapping(settings) ? settings.types : undefined;
  if (typeof types === "string") return { listens: true, types: [types] };
  return { listens: true, types: Array.isArray(types) ? types.map(String) : null };
}

/** Pure: reads one workflow file's text. */
export function inspectWorkflow(path: string, text: string): WorkflowFacts {
  const none: WorkflowFacts = {
    path,
    valid: false,
    listensToDispatch: false,
    dispatchTypes: null,
    idTokenWrite: false,
    actionRefs: [],
    reportsRunScope: false,
  };
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    return none;
  }
  // YAML 1.1 readers turn a bare `on` key into true; the `yaml` package keeps it "on" but both are seen.
  const on = isMapping(document) ? (document.on ?? document.true) : undefined;
  if (!isMapping(document) || on === undefined) return none;
  const trigger = dispatchTrigger(on);
  const jobs = isMapping(document.jobs) ? Object.values(document.jobs).filter(isMapping) : [];
  const workflowGrants = grantsIdToken(document.permissions);
  const actionRefs: string[] = [];
  let reportsRunScope = false;
  let everyCallingJobGrants = true;
  for (const job of jobs) {
    const steps = Array.isArray(job.steps) ? job.steps.filter(isMapping) : [];
    const calls = steps.filter((step) => typeof step.uses === "string" && isCallbackAction(step.uses));
    for (const step of calls) {
      actionRefs.push(String(step.uses));
      if (isMapping(step.with) && step.with.scope === "run") reportsRunScope = true;
    }
    // A job's own permissions replace the workflow's.
    const grants = job.permissions === undefined ? workflowGrants : grantsIdToken(job.permissions);
    if (calls.length > 0 && !grants) everyCallingJobGrants = false;
  }
  return {
    path,
    valid: true,
    listensToDispatch: trigger.listens,
    dispatchTypes: trigger.types,
    idTokenWrite: actionRefs.length > 0 ? everyCallingJobGrants : workflowGrants,
    actionRefs,
    reportsRunScope,
  };
}
