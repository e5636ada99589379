import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import definitions, { type WebhookDefinition } from "@octokit/webhooks-examples";
import type {
  AuthorAssociation,
  CheckRunRerequestedEvent,
  CheckSuiteRerequestedEvent,
  PullRequestEvent,
  PushEvent,
  User,
  WebhookEventMap,
  WebhookEventName,
  WorkflowRunEvent,
} from "@octokit/webhooks-types";
import { TEST_APP_ID, TEST_APP_SLUG } from "./app-key";

/**
 * Real webhook deliveries for the relay under test: payloads start from GitHub's own examples
 * (@octokit/webhooks-examples) and are retargeted at the test's repositories, so every field the
 * relay might read is present and shaped as GitHub sends it.
 */

export const TEST_WEBHOOK_SECRET = "ci-relay-test-webhook-secret";

/** Where a delivery comes from; every builder needs these so tests state them. */
export interface DeliveryTarget {
  /** the repository the event happened in, `owner/name` */
  repo: string;
  installationId: number;
  /** who caused the event; default `octocat`. `...[bot]` logins are sent as bots. */
  sender?: string;
}

export type PullRequestAction = "opened" | "reopened" | "synchronize" | "closed" | "labeled" | "unlabeled";

export interface PullRequestOptions extends DeliveryTarget {
  number?: number;
  headSha?: string;
  /** synchronize only: the previous head */
  before?: string;
  headRef?: string;
  baseRef?: string;
  /** `owner/name` of a fork the PR comes from; default: the same repository */
  headRepo?: string;
  author?: string;
  authorAssociation?: AuthorAssociation;
  /** every label on the PR after the event */
  labels?: string[];
  /** labeled/unlabeled: the label added or removed (it is also put on / taken off `labels`) */
  label?: string;
  title?: string;
  body?: string | null;
  merged?: boolean;
}

export interface PushOptions extends DeliveryTarget {
  ref?: string;
  /** all zeros: a branch deletion */
  after?: string;
  before?: string;
}

export interface CheckRunRerequestOptions extends DeliveryTarget {
  headSha?: string;
  checkRunId?: number;
  name?: string;
  externalId?: string;
  headBranch?: string;
  /** the App that owns the check run; default the test App */
  appId?: number;
}

export interface CheckSuiteRerequestOptions extends DeliveryTarget {
  headSha?: string;
  checkSuiteId?: number;
  headBranch?: string;
  appId?: number;
}

export interface WorkflowRunOptions extends DeliveryTarget {
  runId: number;
  runAttempt?: number;
  /** for completed; default success */
  conclusion?: string;
  name?: string;
}

const ZERO_SHA = "0".repeat(40);

export const randomSha = (): string => randomBytes(20).toString("hex");

function example<E extends WebhookEventName>(
  name: E,
  pick: (payload: WebhookEventMap[E]) => boolean,
): WebhookEventMap[E] {
  const definition = definitions.find((d) => d.name === name) as WebhookDefinition<E> | undefined;
  const found = definition?.examples.find(pick);
  if (!found) throw new Error(`@octokit/webhooks-examples has no matching ${name} example`);
  return found;
}

function user(login: string): User {
  const sample = example("pull_request", (p) => p.action === "opened").sender;
  return { ...sample, login, type: login.endsWith("[bot]") ? "Bot" : "User" };
}

/**
 * A deep copy of `payload` moved to `target.repo`: every mention of the example's repository (names
 * and URLs) is rewritten, and installation and sender are set.
 */
function retarget<T extends { repository?: { full_name: string } }>(payload: T, target: DeliveryTarget): T {
  const original = payload.repository?.full_name;
  if (!original) throw new Error("example payload has no repository");
  const moved = JSON.parse(JSON.stringify(payload).split(original).join(target.repo)) as T & {
    repository: { name: string; owner: User; default_branch: string };
    installation?: { id: number; node_id: string };
    organization?: { login: string };
    sender: User;
  };
  const [owner, name] = target.repo.split("/");
  moved.repository.name = name;
  moved.repository.default_branch = "main";
  moved.repository.owner = { ...moved.repository.owner, login: owner };
  if (moved.organization) moved.organization.login = owner;
  moved.installation = {
    id: target.installationId,
    node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${target.installationId}`,
  };
  moved.sender = user(target.sender ?? "octocat");
  return moved;
}

export function pullRequestEvent(action: PullRequestAction, options: PullRequestOptions): PullRequestEvent {
  const payload = retarget(example("pull_request", (p) => p.action === action) as PullRequestEvent, options);
  const pr = payload.pull_request;
  const number = options.number ?? pr.number;
  payload.number = number;
  pr.number = number;
  pr.url = pr.url.replace(/\/\d+$/, `/${number}`);
  pr.html_url = pr.html_url.replace(/\/\d+$/, `/${number}`);
  pr.head.sha = options.headSha ?? pr.head.sha;
  pr.head.ref = options.headRef ?? pr.head.ref;
  pr.base.ref = options.baseRef ?? pr.base.ref;
  if (options.headRepo && pr.head.repo) {
    const [forkOwner, forkName] = options.headRepo.split("/");
    pr.head.repo = {
      ...pr.head.repo,
      full_name: options.headRepo,
      name: forkName,
      fork: true,
      owner: user(forkOwner),
      html_url: `https://github.com/${options.headRepo}`,
      clone_url: `https://github.com/${options.headRepo}.git`,
      git_url: `git://github.com/${options.headRepo}.git`,
      ssh_url: `git@github.com:${options.headRepo}.git`,
    };
  }
  pr.head.label = `${pr.head.repo?.owner.login ?? pr.head.user.login}:${pr.head.ref}`;
  if (options.author) pr.user = user(options.author);
  pr.author_association = options.authorAssociation ?? pr.author_association;
  if (options.title !== undefined) pr.title = options.title;
  if (options.body !== undefined) pr.body = options.body;
  if (options.merged !== undefined) pr.merged = options.merged;
  if (action === "closed") pr.state = "closed";

  const template = pr.labels[0] ?? example("pull_request", (p) => p.action === "labeled").pull_request.labels[0];
  const label = (name: string) => ({
    ...template,
    id: labelId(name),
    name,
    url: template.url.replace(/[^/]+$/, encodeURIComponent(name)),
  });
  let names = options.labels ?? pr.labels.map((l) => l.name);
  if ((payload.action === "labeled" || payload.action === "unlabeled") && options.label !== undefined) {
    payload.label = label(options.label);
    names =
      payload.action === "labeled" ? [...new Set([...names, options.label])] : names.filter((n) => n !== options.label);
  }
  pr.labels = names.map(label);
  if (payload.action === "synchronize") payload.before = options.before ?? payload.before;
  return payload;
}

export function pushEvent(options: PushOptions): PushEvent {
  const payload = retarget(
    example("push", (p) => p.ref.startsWith("refs/heads/") && p.head_commit !== null),
    options,
  );
  payload.ref = options.ref ?? "refs/heads/main";
  payload.before = options.before ?? randomSha();
  payload.after = options.after ?? randomSha();
  payload.created = payload.before === ZERO_SHA;
  payload.deleted = payload.after === ZERO_SHA;
  payload.compare = `https://github.com/${options.repo}/compare/${payload.before.slice(0, 12)}...${payload.after.slice(0, 12)}`;
  if (payload.deleted) {
    payload.head_commit = null;
    payload.commits = [];
  } else if (payload.head_commit) {
    const url = `https://github.com/${options.repo}/commit/${payload.after}`;
    payload.head_commit = { ...payload.head_commit, id: payload.after, url };
    payload.commits = [payload.head_commit];
  }
  return payload;
}

export function checkRunRerequestedEvent(options: CheckRunRerequestOptions): CheckRunRerequestedEvent {
  const payload = retarget(
    example("check_run", (p) => p.action === "rerequested") as CheckRunRerequestedEvent,
    options,
  );
  const run = payload.check_run;
  run.id = options.checkRunId ?? run.id;
  run.name = options.name ?? run.name;
  run.external_id = options.externalId ?? run.external_id;
  run.head_sha = options.headSha ?? run.head_sha;
  run.check_suite.head_sha = run.head_sha;
  run.check_suite.head_branch = options.headBranch ?? run.check_suite.head_branch;
  run.app = { ...run.app, id: options.appId ?? TEST_APP_ID, slug: TEST_APP_SLUG };
  run.check_suite.app = { ...run.check_suite.app, id: options.appId ?? TEST_APP_ID };
  return payload;
}

export function checkSuiteRerequestedEvent(options: CheckSuiteRerequestOptions): CheckSuiteRerequestedEvent {
  const payload = retarget(
    example("check_suite", (p) => p.action === "rerequested") as CheckSuiteRerequestedEvent,
    options,
  );
  const suite = payload.check_suite;
  suite.id = options.checkSuiteId ?? suite.id;
  suite.head_sha = options.headSha ?? suite.head_sha;
  suite.head_branch = options.headBranch ?? suite.head_branch;
  suite.app = { ...suite.app, id: options.appId ?? TEST_APP_ID, slug: TEST_APP_SLUG };
  return payload;
}

/**
 * A downstream's `workflow_run` delivery: `requested` and `in_progress` are open, `completed` has a
 * conclusion. The sender of a run the app dispatched is the app's bot, as GitHub sends it.
 */
export function workflowRunEvent(
  action: "requested" | "in_progress" | "completed",
  options: WorkflowRunOptions,
): WorkflowRunEvent {
  const payload = retarget(
    example(
      "workflow_run",
      (p) =>
        p.action === (action === "completed" ? "completed" : "requested") &&
        p.repository.full_name === "octo-org/octo-repo",
    ) as WorkflowRunEvent,
    { sender: `${TEST_APP_SLUG}[bot]`, ...options },
  );
  const run = payload.workflow_run as unknown as Record<string, unknown>;
  const [owner, name] = options.repo.split("/");
  Object.assign(run, {
    id: options.runId,
    run_attempt: options.runAttempt ?? 1,
    name: options.name ?? "upstream",
    event: "repository_dispatch",
    status: action === "completed" ? "completed" : action === "in_progress" ? "in_progress" : "queued",
    conclusion: action === "completed" ? (options.conclusion ?? "success") : null,
    html_url: `https://github.com/${owner}/${name}/actions/runs/${options.runId}`,
  });
  (payload as { action: string }).action = action;
  return payload;
}

/** Label ids only need to be stable per name. */
const labelId = (name: string): number => createHash("sha1").update(name).digest().readUInt32BE(0);

/** The `X-Hub-Signature-256` value GitHub would send for `body`. */
export function sign(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface WebhookDelivery {
  event: string;
  payload?: unknown;
  /** default: a fresh UUID */
  deliveryId?: string;
  /** default: TEST_WEBHOOK_SECRET */
  secret?: string;
  /** a value to send instead of the computed one; null sends no signature header */
  signature?: string | null;
  /** default: application/json */
  contentType?: string;
  /** sent instead of JSON.stringify(payload), and signed as is */
  rawBody?: string;
}

export interface WebhookAnswer {
  status: number;
  text: string;
  deliveryId: string;
}

/** POSTs a delivery to `<baseUrl>/api/github/webhooks` the way GitHub does. */
export async function sendWebhook(baseUrl: string, delivery: WebhookDelivery): Promise<WebhookAnswer> {
  const body = delivery.rawBody ?? JSON.stringify(delivery.payload ?? {});
  const deliveryId = delivery.deliveryId ?? randomUUID();
  const signature =
    delivery.signature === undefined ? sign(body, delivery.secret ?? TEST_WEBHOOK_SECRET) : delivery.signature;
  const headers: Record<string, string> = {
    "content-type": delivery.contentType ?? "application/json",
    "user-agent": "GitHub-Hookshot/ci-relay-test",
    "x-github-event": delivery.event,
    "x-github-delivery": deliveryId,
    "x-github-hook-installation-target-type": "integration",
    "x-github-hook-installation-target-id": String(TEST_APP_ID),
  };
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const response = await fetch(new URL("/api/github/webhooks", baseUrl), { method: "POST", headers, body });
  return { status: response.status, text: await response.text(), deliveryId };
}
