import { createHash, randomBytes } from "node:crypto";

/**
 * What the fake GitHub knows: installations and their repositories, the installation tokens it has
 * issued, and the repository data tests seed or the relay writes (files, issues, pulls, comments,
 * check runs, dispatches, workflow runs). Plain data with no HTTP; the routes read and change it.
 */

export type PermissionLevel = "read" | "write";
export type Permissions = Record<string, PermissionLevel>;

/** What an installation may do when a test does not say: everything the relay and broker use. */
export const DEFAULT_INSTALLATION_PERMISSIONS: Permissions = {
  metadata: "read",
  contents: "write",
  checks: "write",
  issues: "write",
  pull_requests: "write",
  actions: "write",
};

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  /** spelled as the test added it; lookups ignore case */
  fullName: string;
  installationId: number;
  defaultBranch: string;
}

export interface FakeInstallation {
  id: number;
  account: string;
  accountType: "Organization" | "User";
  permissions: Permissions;
  repos: FakeRepo[];
}

export interface InstallationSeed {
  id: number;
  /** login of the account the App is installed on */
  account: string;
  accountType?: "Organization" | "User";
  /** "owner/name", or a bare name on `account`; `{fullName, id}` pins the repository id */
  repos: (string | { fullName: string; id: number })[];
  permissions?: Permissions;
}

export interface IssuedToken {
  token: string;
  installationId: number;
  /** full names the token is limited to; null when it covers the whole installation */
  repositories: string[] | null;
  permissions: Permissions;
  expiresAt: number;
}

export interface IssueSeed {
  number: number;
  title?: string;
  body?: string | null;
  state?: "open" | "closed";
  user?: string;
  labels?: string[];
}

export interface PullSeed extends IssueSeed {
  head?: { ref?: string; sha?: string; repo?: string };
  base?: { ref?: string };
  draft?: boolean;
  merged?: boolean;
}

export interface IssueRecord {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  user: string;
  labels: string[];
  createdAt: string;
  /** present when the issue is a pull request */
  pull?: { headRef: string; headSha: string; headRepo: string; baseRef: string; draft: boolean; merged: boolean };
}

export interface CommentRecord {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  createdAt: string;
}

export interface CheckRunRecord {
  id: number;
  repo: string;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

export interface DispatchRecord {
  repo: string;
  eventType: string;
  clientPayload: Record<string, unknown>;
  token: string;
  at: number;
}

export interface WorkflowRunSeed {
  id: number;
  name?: string;
  headSha?: string;
  status?: string;
  conclusion?: string | null;
}

export interface RerunRecord {
  repo: string;
  runId: number;
  kind: "rerun" | "rerun-failed-jobs";
  at: number;
}

export interface RateLimit {
  limit: number;
  remaining: number;
  /** epoch seconds */
  reset: number;
}

const key = (repo: string): string => repo.toLowerCase();

/** Git's blob id, so Contents API answers look like GitHub's. */
const blobSha = (content: string): string =>
  createHash("sha1")
    .update(`blob ${Buffer.byteLength(content)}\0${content}`)
    .digest("hex");

export class FakeGitHubState {
  readonly installations = new Map<number, FakeInstallation>();
  readonly tokens = new Map<string, IssuedToken>();
  readonly dispatches: DispatchRecord[] = [];
  readonly reruns: RerunRecord[] = [];
  readonly checkRuns: CheckRunRecord[] = [];
  readonly comments: CommentRecord[] = [];
  rateLimit: RateLimit = { limit: 5000, remaining: 4999, reset: Math.floor(Date.now() / 1000) + 3600 };

  private readonly repos = new Map<string, FakeRepo>();
  private readonly files = new Map<string, { content: string; sha: string }>();
  private readonly issues = new Map<string, Map<number, IssueRecord>>();
  private readonly workflowRuns = new Map<string, Map<number, WorkflowRunSeed>>();
  /** commit SHAs (lower-case) each repository holds, for the commits endpoint */
  private readonly commits = new Map<string, Set<string>>();
  private nextRepoId = 100_001;
  private nextId = 1_000;

  constructor(
    readonly appId: number,
    readonly appSlug: string,
  ) {}

  addInstallation(seed: InstallationSeed): FakeInstallation {
    const installation: FakeInstallation = {
      id: seed.id,
      account: seed.account,
      accountType: seed.accountType ?? "Organization",
      permissions: seed.permissions ?? DEFAULT_INSTALLATION_PERMISSIONS,
      repos: [],
    };
    for (const entry of seed.repos) {
      const spec = typeof entry === "string" ? { fullName: entry, id: this.nextRepoId++ } : entry;
      const fullName = spec.fullName.includes("/") ? spec.fullName : `${seed.account}/${spec.fullName}`;
      const [owner, name] = fullName.split("/");
      const repo: FakeRepo = { id: spec.id, owner, name, fullName, installationId: seed.id, defaultBranch: "main" };
      installation.repos.push(repo);
      this.repos.set(key(fullName), repo);
    }
    this.installations.set(seed.id, installation);
    return installation;
  }

  repo(fullName: string): FakeRepo | undefined {
    return this.repos.get(key(fullName));
  }

  installationForAccount(login: string): FakeInstallation | undefined {
    return [...this.installations.values()].find((i) => key(i.account) === key(login));
  }

  issueToken(
    installationId: number,
    repositories: string[] | null,
    permissions: Permissions,
    now: number,
  ): IssuedToken {
    const issued: IssuedToken = {
      token: `ghs_${randomBytes(18).toString("base64url")}`,
      installationId,
      repositories,
      permissions,
      expiresAt: now + 3600_000,
    };
    this.tokens.set(issued.token, issued);
    return issued;
  }

  /** Makes every token issued so far expired, as if an hour had passed. */
  expireTokens(now: number): void {
    for (const token of this.tokens.values()) token.expiresAt = Math.min(token.expiresAt, now - 1);
  }

  newId(): number {
    return this.nextId++;
  }

  setFile(repo: string, path: string, content: string, ref: string): void {
    this.files.set(this.fileKey(repo, path, ref), { content, sha: blobSha(content) });
  }

  file(repo: string, path: string, ref: string): { content: string; sha: string } | undefined {
    return this.files.get(this.fileKey(repo, path, ref));
  }

  // --- onboard (ci-relay doctor): directory listings of the Contents API ---
  /** Paths of the files directly in `dir`; null when it holds none (GitHub: no such directory). */
  filesIn(repo: string, dir: string, ref: string): string[] | null {
    const prefix = this.fileKey(repo, `${dir.replace(/\/+$/, "")}/`, ref);
    const paths = [...this.files.keys()]
      .filter((name) => name.startsWith(prefix) && !name.slice(prefix.length).includes("/"))
      .map((name) => name.split("\0")[2]);
    return paths.length > 0 ? paths.sort() : null;
  }
  // --- end onboard ---

  private fileKey(repo: string, path: string, ref: string): string {
    return [key(repo), ref.replace(/^refs\/heads\//, ""), path.replace(/^\/+/, "")].join("\0");
  }

  setIssue(repo: string, seed: IssueSeed): IssueRecord {
    const existing = this.issuesOf(repo).get(seed.number);
    const record: IssueRecord = {
      number: seed.number,
      title: seed.title ?? existing?.title ?? `Issue ${seed.number}`,
      body: seed.body !== undefined ? seed.body : (existing?.body ?? null),
      state: seed.state ?? existing?.state ?? "open",
      user: seed.user ?? existing?.user ?? "octocat",
      labels: seed.labels ?? existing?.labels ?? [],
      createdAt: existing?.createdAt ?? new Date().toISOString(),
      pull: existing?.pull,
    };
    this.issuesOf(repo).set(seed.number, record);
    return record;
  }

  setPull(repo: string, seed: PullSeed): IssueRecord {
    const previous = this.issuesOf(repo).get(seed.number)?.pull;
    const record = this.setIssue(repo, { title: `Pull request ${seed.number}`, ...seed });
    record.pull = {
      headRef: seed.head?.ref ?? previous?.headRef ?? `feature-${seed.number}`,
      headSha: seed.head?.sha ?? previous?.headSha ?? randomBytes(20).toString("hex"),
      headRepo: seed.head?.repo ?? previous?.headRepo ?? repo,
      baseRef: seed.base?.ref ?? previous?.baseRef ?? "main",
      draft: seed.draft ?? previous?.draft ?? false,
      merged: seed.merged ?? previous?.merged ?? false,
    };
    return record;
  }

  issue(repo: string, number: number): IssueRecord | undefined {
    return this.issuesOf(repo).get(number);
  }

  listIssues(repo: string): IssueRecord[] {
    return [...this.issuesOf(repo).values()].sort((a, b) => b.number - a.number);
  }

  nextIssueNumber(repo: string): number {
    return Math.max(0, ...this.issuesOf(repo).keys()) + 1;
  }

  private issuesOf(repo: string): Map<number, IssueRecord> {
    let issues = this.issues.get(key(repo));
    if (!issues) {
      issues = new Map();
      this.issues.set(key(repo), issues);
    }
    return issues;
  }

  addWorkflowRun(repo: string, run: WorkflowRunSeed): void {
    const runs = this.workflowRuns.get(key(repo)) ?? new Map<number, WorkflowRunSeed>();
    runs.set(run.id, run);
    this.workflowRuns.set(key(repo), runs);
  }

  workflowRun(repo: string, id: number): WorkflowRunSeed | undefined {
    return this.workflowRuns.get(key(repo))?.get(id);
  }

  addCommit(repo: string, sha: string): void {
    const shas = this.commits.get(key(repo)) ?? new Set<string>();
    shas.add(sha.toLowerCase());
    this.commits.set(key(repo), shas);
  }

  hasCommit(repo: string, sha: string): boolean {
    return this.commits.get(key(repo))?.has(sha.toLowerCase()) ?? false;
  }
}
