import { z } from "zod";
import {
  type CheckRunRecord,
  type FakeGitHubState,
  type FakeInstallation,
  type FakeRepo,
  type IssueRecord,
  type IssuedToken,
  type PermissionLevel,
  type Permissions,
} from "./fake-github-state";
import { hookDeliveryJson, type FakeHookDeliveries } from "./fake-github-deliveries";
import { matchPath } from "./path-pattern";

/**
 * The GitHub REST endpoints the fake serves, as a table. Each entry states how GitHub authenticates
 * it (`app`: the App's JWT; `installation`: an installation token; `any`: either or none) and the
 * token permission it needs, so the fake refuses what GitHub would refuse. Routes under
 * /repos/{owner}/{repo} get the repository resolved and access-checked before the handler runs.
 */

export interface RouteContext {
  state: FakeGitHubState;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** resolved for /repos/{owner}/{repo}/... routes */
  repo: FakeRepo | null;
  token: IssuedToken | null;
  /** the App's webhook deliveries */
  hooks: FakeHookDeliveries;
  now: number;
  /** where the API is served, for `url` fields and pagination links: http://127.0.0.1:<port>/api/v3 */
  apiUrl: string;
  /** base of `html_url` fields */
  webUrl: string;
}

export interface Reply {
  status: number;
  /** JSON body; a string is sent as is (raw file contents) */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  template: string;
  auth: "app" | "installation" | "any";
  permission?: [name: string, level: PermissionLevel];
  handle(ctx: RouteContext): Reply;
}

export const notFound = (): Reply => ({
  status: 404,
  body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" },
});

const validationFailed = (message: string): Reply => ({
  status: 422,
  body: { message, documentation_url: "https://docs.github.com/rest" },
});

/** Parses a request body the way GitHub validates it: anything off the schema is a 422. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; value: T } | { ok: false; reply: Reply } {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, reply: validationFailed(`Invalid request.\n\n${z.prettifyError(result.error)}`) };
}

function must<T>(value: T | null): T {
  if (value === null) throw new Error("route needs a resolved repository");
  return value;
}

/** GitHub's page/per_page lists, with a Link header so Octokit's paginate walks them. */
function page<T>(ctx: RouteContext, path: string, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(ctx.query.per_page) || 30, 1), 100);
  const current = Math.max(Number(ctx.query.page) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const headers: Record<string, string> = {};
  if (current < last) {
    const next = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(current + 1) });
    const end = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(last) });
    headers.link = `<${ctx.apiUrl}${path}?${next}>; rel="next", <${ctx.apiUrl}${path}?${end}>; rel="last"`;
  }
  return { items: items.slice((current - 1) * perPage, current * perPage), headers };
}

const account = (login: string, type = "Organization") => ({ login, id: 1, type });
const bot = (ctx: RouteContext) => `${ctx.state.appSlug}[bot]`;

function repoJson(ctx: RouteContext, repo: FakeRepo) {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    owner: account(repo.owner),
    private: false,
    html_url: `${ctx.webUrl}/${repo.fullName}`,
    url: `${ctx.apiUrl}/repos/${repo.fullName}`,
    default_branch: repo.defaultBranch,
  };
}

function installationJson(ctx: RouteContext, installation: FakeInstallation) {
  return {
    id: installation.id,
    account: account(installation.account, installation.accountType),
    app_id: ctx.state.appId,
    app_slug: ctx.state.appSlug,
    target_type: installation.accountType,
    repository_selection: "selected",
    permissions: installation.permissions,
    access_tokens_url: `${ctx.apiUrl}/app/installations/${installation.id}/access_tokens`,
  };
}

function issueJson(ctx: RouteContext, repo: FakeRepo, issue: IssueRecord) {
  const api = `${ctx.apiUrl}/repos/${repo.fullName}`;
  const kind = issue.pull ? "pull" : "issues";
  return {
    id: repo.id * 10_000 + issue.number,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    user: { login: issue.user, type: issue.user.endsWith("[bot]") ? "Bot" : "User" },
    labels: issue.labels.map((name) => ({ name })),
    created_at: issue.createdAt,
    updated_at: issue.createdAt,
    url: `${api}/issues/${issue.number}`,
    html_url: `${ctx.webUrl}/${repo.fullName}/${kind}/${issue.number}`,
    ...(issue.pull ? { pull_request: { url: `${api}/pulls/${issue.number}` } } : {}),
  };
}

function pullJson(ctx: RouteContext, repo: FakeRepo, issue: IssueRecord) {
  const pull = issue.pull;
  if (!pull) throw new Error(`#${issue.number} is not a pull request`);
  const headOwner = pull.headRepo.split("/")[0];
  return {
    ...issueJson(ctx, repo, issue),
    url: `${ctx.apiUrl}/repos/${repo.fullName}/pulls/${issue.number}`,
    draft: pull.draft,
    merged: pull.merged,
    head: {
      ref: pull.headRef,
      sha: pull.headSha,
      label: `${headOwner}:${pull.headRef}`,
      repo: { full_name: pull.headRepo },
    },
    base: { ref: pull.baseRef, label: `${repo.owner}:${pull.baseRef}`, repo: repoJson(ctx, repo) },
  };
}

function checkRunJson(ctx: RouteContext, run: CheckRunRecord) {
  return {
    id: run.id,
    name: run.name,
    head_sha: run.headSha,
    status: run.status,
    conclusion: run.conclusion,
    external_id: run.externalId,
    details_url: run.detailsUrl,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: run.output,
    url: `${ctx.apiUrl}/repos/${run.repo}/check-runs/${run.id}`,
    html_url: `${ctx.webUrl}/${run.repo}/runs/${run.id}`,
    app: { id: ctx.state.appId, slug: ctx.state.appSlug },
  };
}

function commentJson(
  ctx: RouteContext,
  repo: FakeRepo,
  comment: { id: number; body: string; user: string; createdAt: string; issueNumber: number },
) {
  return {
    id: comment.id,
    body: comment.body,
    user: { login: comment.user, type: comment.user.endsWith("[bot]") ? "Bot" : "User" },
    created_at: comment.createdAt,
    updated_at: comment.createdAt,
    url: `${ctx.apiUrl}/repos/${repo.fullName}/issues/comments/${comment.id}`,
    html_url: `${ctx.webUrl}/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
  };
}

const permissionsSchema = z.record(z.string(), z.enum(["read", "write"]));

const accessTokenBody = z.strictObject({
  repositories: z.array(z.string()).optional(),
  repository_ids: z.array(z.number().int()).optional(),
  permissions: permissionsSchema.optional(),
});

const dispatchBody = z.strictObject({
  event_type: z.string().min(1).max(100),
  client_payload: z
    .record(z.string(), z.unknown())
    .refine((payload) => Object.keys(payload).length <= 10, "client_payload has more than 10 top-level properties")
    .refine((payload) => JSON.stringify(payload).length <= 65_535, "client_payload is longer than 65535 characters")
    .optional(),
});

const CHECK_STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"] as const;
const CHECK_CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
] as const;

const checkRunFields = {
  name: z.string().min(1),
  details_url: z.string().optional(),
  external_id: z.string().optional(),
  status: z.enum(CHECK_STATUSES).optional(),
  conclusion: z.enum(CHECK_CONCLUSIONS).optional(),
  started_at: z.string().optional(),
  completed_at: z.string().optional(),
  output: z
    .object({ title: z.string().optional(), summary: z.string().optional(), text: z.string().optional() })
    .optional(),
  actions: z.array(z.unknown()).optional(),
};

const createCheckRunBody = z.object({ ...checkRunFields, head_sha: z.string().min(1) });
const updateCheckRunBody = z.object({ ...checkRunFields, name: checkRunFields.name.optional() });

const createPullBody = z.object({
  title: z.string().min(1),
  head: z.string().min(1),
  base: z.string().min(1),
  body: z.string().optional(),
  draft: z.boolean().optional(),
  maintainer_can_modify: z.boolean().optional(),
});

const commentBody = z.object({ body: z.string().min(1) });

function accessTokens(ctx: RouteContext): Reply {
  const installation = ctx.state.installations.get(Number(ctx.params.installation_id));
  if (!installation) return notFound();
  const parsed = parseBody(accessTokenBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  const { repositories, repository_ids: repositoryIds, permissions } = parsed.value;

  const scoped: FakeRepo[] = [];
  for (const name of repositories ?? []) {
    const repo = installation.repos.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!repo)
      return validationFailed(
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
      );
    scoped.push(repo);
  }
  for (const id of repositoryIds ?? []) {
    const repo = installation.repos.find((r) => r.id === id);
    if (!repo)
      return validationFailed(
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
      );
    scoped.push(repo);
  }
  if (permissions && !covers(installation.permissions, permissions)) {
    return validationFailed("The permissions requested are not granted to this installation.");
  }
  const isScoped = repositories !== undefined || repositoryIds !== undefined;
  const unique = [...new Map(scoped.map((r) => [r.id, r])).values()];
  const issued = ctx.state.issueToken(
    installation.id,
    isScoped ? unique.map((r) => r.fullName) : null,
    permissions ?? installation.permissions,
    ctx.now,
  );
  return {
    status: 201,
    body: {
      token: issued.token,
      expires_at: new Date(issued.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
      permissions: issued.permissions,
      repository_selection: isScoped ? "selected" : "all",
      ...(isScoped ? { repositories: unique.map((r) => repoJson(ctx, r)) } : {}),
    },
  };
}

/** True when `granted` allows everything in `wanted` (write implies read). */
export function covers(granted: Permissions, wanted: Permissions): boolean {
  return Object.entries(wanted).every(([name, level]) => {
    const have = granted[name] ?? (name === "metadata" ? "read" : undefined);
    return have === "write" || have === level;
  });
}

function listCheckRuns(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  let runs = ctx.state.checkRuns.filter(
    (r) => r.repo.toLowerCase() === repo.fullName.toLowerCase() && r.headSha === ctx.params.ref,
  );
  if (ctx.query.check_name) runs = runs.filter((r) => r.name === ctx.query.check_name);
  if (ctx.query.status) runs = runs.filter((r) => r.status === ctx.query.status);
  if ((ctx.query.filter ?? "latest") === "latest") {
    const latest = new Map<string, CheckRunRecord>();
    for (const run of runs) if ((latest.get(run.name)?.id ?? 0) < run.id) latest.set(run.name, run);
    runs = [...latest.values()];
  }
  runs = [...runs].sort((a, b) => b.id - a.id);
  const { items, headers } = page(ctx, `/repos/${repo.fullName}/commits/${ctx.params.ref}/check-runs`, runs);
  return {
    status: 200,
    headers,
    body: { total_count: runs.length, check_runs: items.map((r) => checkRunJson(ctx, r)) },
  };
}

function findCheckRun(ctx: RouteContext): CheckRunRecord | undefined {
  const repo = must(ctx.repo);
  return ctx.state.checkRuns.find(
    (r) => r.id === Number(ctx.params.check_run_id) && r.repo.toLowerCase() === repo.fullName.toLowerCase(),
  );
}

/** GitHub's rule: a conclusion completes the run; completing needs a conclusion. */
function applyCheckRunChange(
  run: CheckRunRecord,
  change: z.infer<typeof updateCheckRunBody>,
  now: number,
): Reply | null {
  if (change.name !== undefined) run.name = change.name;
  if (change.details_url !== undefined) run.detailsUrl = change.details_url;
  if (change.external_id !== undefined) run.externalId = change.external_id;
  if (change.started_at !== undefined) run.startedAt = change.started_at;
  if (change.output) {
    run.output = {
      title: change.output.title ?? run.output.title,
      summary: change.output.summary ?? run.output.summary,
      text: change.output.text ?? run.output.text,
    };
  }
  if (change.conclusion !== undefined) {
    run.status = "completed";
    run.conclusion = change.conclusion;
    run.completedAt = change.completed_at ?? new Date(now).toISOString();
  } else if (change.status !== undefined) {
    if (change.status === "completed") return validationFailed("conclusion is required when status is completed");
    run.status = change.status;
  }
  return null;
}

function createCheckRun(ctx: RouteContext): Reply {
  const parsed = parseBody(createCheckRunBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  const run: CheckRunRecord = {
    id: ctx.state.newId(),
    repo: must(ctx.repo).fullName,
    name: parsed.value.name,
    headSha: parsed.value.head_sha,
    status: "queued",
    conclusion: null,
    externalId: null,
    detailsUrl: null,
    startedAt: new Date(ctx.now).toISOString(),
    completedAt: null,
    output: { title: null, summary: null, text: null },
  };
  const invalid = applyCheckRunChange(run, parsed.value, ctx.now);
  if (invalid) return invalid;
  ctx.state.checkRuns.push(run);
  return { status: 201, body: checkRunJson(ctx, run) };
}

function updateCheckRun(ctx: RouteContext): Reply {
  const run = findCheckRun(ctx);
  if (!run) return notFound();
  const parsed = parseBody(updateCheckRunBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  const updated = { ...run, output: { ...run.output } };
  const invalid = applyCheckRunChange(updated, parsed.value, ctx.now);
  if (invalid) return invalid;
  Object.assign(run, updated);
  return { status: 200, body: checkRunJson(ctx, run) };
}

/**
 * `GET /repos/{o}/{r}/commits/{ref}` for full SHAs the test seeded (`addCommit`); GitHub answers 422
 * for a ref it cannot resolve to a commit and 404 for a well-formed SHA it does not have. With the
 * `application/vnd.github.sha` media type the answer is the SHA alone, as text.
 */
function getCommit(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  const sha = ctx.params.ref.toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(sha)) return validationFailed(`No commit found for SHA: ${ctx.params.ref}`);
  if (!ctx.state.hasCommit(repo.fullName, sha)) return notFound();
  const accept = String(ctx.headers.accept ?? "");
  if (accept.includes("application/vnd.github.sha")) return { status: 200, body: sha };
  return {
    status: 200,
    body: {
      sha,
      url: `${ctx.apiUrl}/repos/${repo.fullName}/commits/${sha}`,
      html_url: `${ctx.webUrl}/${repo.fullName}/commit/${sha}`,
    },
  };
}

function getContents(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  const ref = ctx.query.ref ?? repo.defaultBranch;
  const file = ctx.state.file(repo.fullName, ctx.params.path, ref);
  if (!file) return directoryListing(ctx, repo, ref) ?? notFound();
  const accept = String(ctx.headers.accept ?? "");
  if (accept.includes("raw")) {
    return {
      status: 200,
      body: file.content,
      headers: { "content-type": "application/vnd.github.raw; charset=utf-8" },
    };
  }
  const base64 = Buffer.from(file.content).toString("base64");
  return {
    status: 200,
    body: {
      type: "file",
      encoding: "base64",
      // GitHub wraps base64 content at 60 characters; decoders must cope with the newlines.
      content: `${base64.replace(/(.{60})/g, "$1\n")}\n`,
      size: Buffer.byteLength(file.content),
      name: ctx.params.path.split("/").pop(),
      path: ctx.params.path,
      sha: file.sha,
      url: `${ctx.apiUrl}/repos/${repo.fullName}/contents/${ctx.params.path}?ref=${encodeURIComponent(ref)}`,
      html_url: `${ctx.webUrl}/${repo.fullName}/blob/${ref}/${ctx.params.path}`,
    },
  };
}

// --- onboard (ci-relay doctor): the Contents API answers a directory with a list of its entries ---
function directoryListing(ctx: RouteContext, repo: FakeRepo, ref: string): Reply | null {
  const paths = ctx.state.filesIn(repo.fullName, ctx.params.path, ref);
  if (paths === null) return null;
  return {
    status: 200,
    body: paths.map((path) => ({
      type: "file",
      name: path.split("/").pop(),
      path,
      sha: ctx.state.file(repo.fullName, path, ref)?.sha,
      size: Buffer.byteLength(ctx.state.file(repo.fullName, path, ref)?.content ?? ""),
      url: `${ctx.apiUrl}/repos/${repo.fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`,
    })),
  };
}
// --- end onboard ---

const byState = (query: Record<string, string>) => (issue: IssueRecord) =>
  (query.state ?? "open") === "all" || issue.state === (query.state ?? "open");

function issueOr404(ctx: RouteContext): IssueRecord | Reply {
  return ctx.state.issue(must(ctx.repo).fullName, Number(ctx.params.issue_number)) ?? notFound();
}

const isReply = (value: IssueRecord | Reply): value is Reply => "status" in value && typeof value.status === "number";

/**
 * "List deliveries for an app webhook": newest first, `per_page` up to 100, and cursor pagination —
 * the Link header's next page carries `cursor`, the page then starts after that delivery.
 */
function listHookDeliveries(ctx: RouteContext): Reply {
  const perPage = Math.min(Math.max(Number(ctx.query.per_page) || 30, 1), 100);
  let deliveries = ctx.hooks.newestFirst();
  if (ctx.query.redelivery !== undefined)
    deliveries = deliveries.filter((d) => String(d.redelivery) === ctx.query.redelivery);
  if (ctx.query.cursor !== undefined) {
    const after = /^v1_(\d+)$/.exec(ctx.query.cursor);
    if (!after) return validationFailed("Invalid cursor");
    deliveries = deliveries.filter((d) => d.id < Number(after[1]));
  }
  const items = deliveries.slice(0, perPage);
  const headers: Record<string, string> = {};
  if (deliveries.length > perPage) {
    const next = new URLSearchParams({
      ...ctx.query,
      per_page: String(perPage),
      cursor: `v1_${items[items.length - 1].id}`,
    });
    headers.link = `<${ctx.apiUrl}/app/hook/deliveries?${next}>; rel="next"`;
  }
  return { status: 200, headers, body: items.map(hookDeliveryJson) };
}

function createPull(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  const parsed = parseBody(createPullBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  const { title, head, base, body, draft } = parsed.value;
  const headRef = head.includes(":") ? head.split(":")[1] : head;
  const duplicate = ctx.state
    .listIssues(repo.fullName)
    .find((i) => i.state === "open" && i.pull?.headRef === headRef && i.pull.baseRef === base);
  if (duplicate) return validationFailed(`A pull request already exists for ${repo.owner}:${headRef}.`);
  const created = ctx.state.setPull(repo.fullName, {
    number: ctx.state.nextIssueNumber(repo.fullName),
    title,
    body: body ?? null,
    user: bot(ctx),
    head: { ref: headRef },
    base: { ref: base },
    draft: draft ?? false,
  });
  return { status: 201, body: pullJson(ctx, repo, created) };
}

function createComment(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  const issue = issueOr404(ctx);
  if (isReply(issue)) return issue;
  const parsed = parseBody(commentBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  const comment = {
    id: ctx.state.newId(),
    repo: repo.fullName,
    issueNumber: issue.number,
    body: parsed.value.body,
    user: bot(ctx),
    createdAt: new Date(ctx.now).toISOString(),
  };
  ctx.state.comments.push(comment);
  return { status: 201, body: commentJson(ctx, repo, comment) };
}

/** GitHub edits a comment of the repository by id; one deleted (or of another repository) is a 404. */
function editComment(ctx: RouteContext): Reply {
  const repo = must(ctx.repo);
  const comment = ctx.state.comments.find(
    (c) => c.id === Number(ctx.params.comment_id) && c.repo.toLowerCase() === repo.fullName.toLowerCase(),
  );
  if (!comment) return notFound();
  const parsed = parseBody(commentBody, ctx.body);
  if (!parsed.ok) return parsed.reply;
  comment.body = parsed.value.body;
  return { status: 200, body: commentJson(ctx, repo, comment) };
}

function rerun(kind: "rerun" | "rerun-failed-jobs") {
  return (ctx: RouteContext): Reply => {
    const repo = must(ctx.repo);
    const runId = Number(ctx.params.run_id);
    if (!ctx.state.workflowRun(repo.fullName, runId)) return notFound();
    ctx.state.reruns.push({ repo: repo.fullName, runId, kind, at: ctx.now });
    return { status: 201, body: {} };
  };
}

const REPO = "/repos/{owner}/{repo}";

export const routes: Route[] = [
  {
    method: "GET",
    template: "/app",
    auth: "app",
    handle: (ctx) => ({
      status: 200,
      body: { id: ctx.state.appId, slug: ctx.state.appSlug, name: ctx.state.appSlug, owner: account("ci-relay") },
    }),
  },
  {
    method: "GET",
    template: "/app/installations",
    auth: "app",
    handle: (ctx) => {
      const { items, headers } = page(ctx, "/app/installations", [...ctx.state.installations.values()]);
      return { status: 200, headers, body: items.map((i) => installationJson(ctx, i)) };
    },
  },
  {
    method: "GET",
    template: "/app/installations/{installation_id}",
    auth: "app",
    handle: (ctx) => {
      const installation = ctx.state.installations.get(Number(ctx.params.installation_id));
      return installation ? { status: 200, body: installationJson(ctx, installation) } : notFound();
    },
  },
  { method: "POST", template: "/app/installations/{installation_id}/access_tokens", auth: "app", handle: accessTokens },
  { method: "GET", template: "/app/hook/deliveries", auth: "app", handle: listHookDeliveries },
  {
    method: "POST",
    template: "/app/hook/deliveries/{delivery_id}/attempts",
    auth: "app",
    handle: (ctx) => (ctx.hooks.redeliver(Number(ctx.params.delivery_id)) ? { status: 202, body: {} } : notFound()),
  },
  {
    method: "GET",
    template: `${REPO}/installation`,
    auth: "app",
    handle: (ctx) => {
      const repo = ctx.state.repo(`${ctx.params.owner}/${ctx.params.repo}`);
      const installation = repo && ctx.state.installations.get(repo.installationId);
      return installation ? { status: 200, body: installationJson(ctx, installation) } : notFound();
    },
  },
  {
    method: "GET",
    template: "/orgs/{org}/installation",
    auth: "app",
    handle: (ctx) => {
      const installation = ctx.state.installationForAccount(ctx.params.org);
      return installation?.accountType === "Organization"
        ? { status: 200, body: installationJson(ctx, installation) }
        : notFound();
    },
  },
  {
    method: "GET",
    template: "/users/{username}/installation",
    auth: "app",
    handle: (ctx) => {
      const installation = ctx.state.installationForAccount(ctx.params.username);
      return installation ? { status: 200, body: installationJson(ctx, installation) } : notFound();
    },
  },
  {
    method: "GET",
    template: "/installation/repositories",
    auth: "installation",
    handle: (ctx) => {
      const token = ctx.token;
      const installation = token && ctx.state.installations.get(token.installationId);
      if (!token || !installation) return notFound();
      const visible = installation.repos.filter(
        (r) => token.repositories === null || token.repositories.includes(r.fullName),
      );
      const { items, headers } = page(ctx, "/installation/repositories", visible);
      return {
        status: 200,
        headers,
        body: { total_count: visible.length, repositories: items.map((r) => repoJson(ctx, r)) },
      };
    },
  },
  {
    method: "GET",
    template: "/rate_limit",
    auth: "any",
    handle: (ctx) => {
      const core = { ...ctx.state.rateLimit, used: ctx.state.rateLimit.limit - ctx.state.rateLimit.remaining };
      return { status: 200, body: { resources: { core }, rate: core } };
    },
  },
  {
    method: "GET",
    template: REPO,
    auth: "installation",
    permission: ["metadata", "read"],
    handle: (ctx) => ({ status: 200, body: repoJson(ctx, must(ctx.repo)) }),
  },
  {
    method: "POST",
    template: `${REPO}/dispatches`,
    auth: "installation",
    permission: ["contents", "write"],
    handle: (ctx) => {
      const parsed = parseBody(dispatchBody, ctx.body);
      if (!parsed.ok) return parsed.reply;
      ctx.state.dispatches.push({
        repo: must(ctx.repo).fullName,
        eventType: parsed.value.event_type,
        clientPayload: parsed.value.client_payload ?? {},
        token: ctx.token?.token ?? "",
        at: ctx.now,
      });
      return { status: 204 };
    },
  },
  {
    method: "POST",
    template: `${REPO}/check-runs`,
    auth: "installation",
    permission: ["checks", "write"],
    handle: createCheckRun,
  },
  {
    method: "GET",
    template: `${REPO}/check-runs/{check_run_id}`,
    auth: "installation",
    permission: ["checks", "read"],
    handle: (ctx) => {
      const run = findCheckRun(ctx);
      return run ? { status: 200, body: checkRunJson(ctx, run) } : notFound();
    },
  },
  {
    method: "PATCH",
    template: `${REPO}/check-runs/{check_run_id}`,
    auth: "installation",
    permission: ["checks", "write"],
    handle: updateCheckRun,
  },
  {
    method: "GET",
    template: `${REPO}/commits/{ref+}/check-runs`,
    auth: "installation",
    permission: ["checks", "read"],
    handle: listCheckRuns,
  },
  {
    method: "GET",
    template: `${REPO}/commits/{ref}`,
    auth: "installation",
    permission: ["contents", "read"],
    handle: getCommit,
  },
  {
    method: "GET",
    template: `${REPO}/contents/{path+}`,
    auth: "installation",
    permission: ["contents", "read"],
    handle: getContents,
  },
  {
    method: "GET",
    template: `${REPO}/issues`,
    auth: "installation",
    permission: ["issues", "read"],
    handle: (ctx) => {
      const repo = must(ctx.repo);
      const all = ctx.state.listIssues(repo.fullName).filter(byState(ctx.query));
      const { items, headers } = page(ctx, `/repos/${repo.fullName}/issues`, all);
      return { status: 200, headers, body: items.map((i) => issueJson(ctx, repo, i)) };
    },
  },
  {
    method: "GET",
    template: `${REPO}/issues/{issue_number}`,
    auth: "installation",
    permission: ["issues", "read"],
    handle: (ctx) => {
      const issue = issueOr404(ctx);
      return isReply(issue) ? issue : { status: 200, body: issueJson(ctx, must(ctx.repo), issue) };
    },
  },
  {
    method: "GET",
    template: `${REPO}/issues/{issue_number}/comments`,
    auth: "installation",
    permission: ["issues", "read"],
    handle: (ctx) => {
      const repo = must(ctx.repo);
      const issue = issueOr404(ctx);
      if (isReply(issue)) return issue;
      const comments = ctx.state.comments.filter(
        (c) => c.repo.toLowerCase() === repo.fullName.toLowerCase() && c.issueNumber === issue.number,
      );
      const { items, headers } = page(ctx, `/repos/${repo.fullName}/issues/${issue.number}/comments`, comments);
      return { status: 200, headers, body: items.map((c) => commentJson(ctx, repo, c)) };
    },
  },
  {
    method: "POST",
    template: `${REPO}/issues/{issue_number}/comments`,
    auth: "installation",
    permission: ["issues", "write"],
    handle: createComment,
  },
  {
    method: "PATCH",
    template: `${REPO}/issues/comments/{comment_id}`,
    auth: "installation",
    permission: ["issues", "write"],
    handle: editComment,
  },
  {
    method: "GET",
    template: `${REPO}/pulls`,
    auth: "installation",
    permission: ["pull_requests", "read"],
    handle: (ctx) => {
      const repo = must(ctx.repo);
      const pulls = ctx.state.listIssues(repo.fullName).filter((i) => i.pull && byState(ctx.query)(i));
      const { items, headers } = page(ctx, `/repos/${repo.fullName}/pulls`, pulls);
      return { status: 200, headers, body: items.map((i) => pullJson(ctx, repo, i)) };
    },
  },
  {
    method: "GET",
    template: `${REPO}/pulls/{pull_number}`,
    auth: "installation",
    permission: ["pull_requests", "read"],
    handle: (ctx) => {
      const repo = must(ctx.repo);
      const issue = ctx.state.issue(repo.fullName, Number(ctx.params.pull_number));
      return issue?.pull ? { status: 200, body: pullJson(ctx, repo, issue) } : notFound();
    },
  },
  {
    method: "POST",
    template: `${REPO}/pulls`,
    auth: "installation",
    permission: ["pull_requests", "write"],
    handle: createPull,
  },
  {
    method: "GET",
    template: `${REPO}/actions/runs/{run_id}`,
    auth: "installation",
    permission: ["actions", "read"],
    handle: (ctx) => {
      const repo = must(ctx.repo);
      const run = ctx.state.workflowRun(repo.fullName, Number(ctx.params.run_id));
      if (!run) return notFound();
      return {
        status: 200,
        body: {
          id: run.id,
          name: run.name ?? "CI",
          head_sha: run.headSha ?? null,
          status: run.status ?? "completed",
          conclusion: run.conclusion ?? null,
          html_url: `${ctx.webUrl}/${repo.fullName}/actions/runs/${run.id}`,
        },
      };
    },
  },
  {
    method: "POST",
    template: `${REPO}/actions/runs/{run_id}/rerun`,
    auth: "installation",
    permission: ["actions", "write"],
    handle: rerun("rerun"),
  },
  {
    method: "POST",
    template: `${REPO}/actions/runs/{run_id}/rerun-failed-jobs`,
    auth: "installation",
    permission: ["actions", "write"],
    handle: rerun("rerun-failed-jobs"),
  },
];

/** The route serving `method path`, with its path parameters; null when GitHub has no such endpoint here. */
export function findRoute(method: string, path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const params = matchPath(route.template, path);
    if (params) return { route, params };
  }
  return null;
}
