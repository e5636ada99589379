/**
 * github/ owns the relay's access to GitHub: installation lookup and scoped tokens (cached), the
 * throttled Octokit, write pacing per installation, the outcome of every call (for metrics and health),
 * and reading repository files.
 */
import type { Probot, ProbotOctokit } from "probot";
import { z } from "zod";
import { RelayError } from "../errors/failure-kinds";
import { forgetInstallationId, readInstallationId, storeInstallationId } from "../records/installations";
import type { GitHubMetrics } from "./github-metrics";
import type { Store } from "../store/store";
import { WritePacer } from "./pace-writes";

export type Permission = "read" | "write";
export type Permissions = Partial<
  Record<"contents" | "checks" | "actions" | "issues" | "pull_requests" | "metadata", Permission>
>;

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Installation ids change only on (re)install; an hour keeps lookups off the hot path. */
const INSTALLATION_TTL_SECONDS = 3600;
const tokenAnswer = z.object({ token: z.string(), expires_at: z.string() });
/** A token is replaced this long before GitHub's expiry so no request starts with a dying token. */
const TOKEN_RENEW_BEFORE_MS = 5 * 60_000;

interface CachedToken {
  client: Octokit;
  renewAt: number;
}

/**
 * The app's way into GitHub: an Octokit per (repository, permissions) whose installation token is
 * scoped to that one repository and those permissions. Installation ids are cached in the store
 * (shared by every process) and in memory; tokens are cached in memory only (never written to the
 * store: they are secrets) by Probot's token cache until shortly before they expire. Writes are
 * paced per installation across every process (`WritePacer`).
 */
export class AppGitHub {
  private readonly installations = new Map<string, { id: number; until: number }>();
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private readonly pacer: WritePacer;

  constructor(
    private readonly probot: Probot,
    private readonly store: Store,
    metrics: GitHubMetrics,
  ) {
    this.pacer = new WritePacer(store, probot.log.child({ name: "github" }), metrics);
  }

  async forRepo(repo: string, permissions: Permissions): Promise<Octokit> {
    const installationId = await this.installationId(repo);
    const key = `${installationId}|${repo.toLowerCase()}|${JSON.stringify(Object.entries(permissions).sort())}`;
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => null);
      if (token && token.renewAt > Date.now()) return token.client;
      if (this.tokens.get(key) !== cached) return this.forRepo(repo, permissions); // someone renewed meanwhile
    }
    // Concurrent callers share one mint.
    const minting = this.mint(installationId, repo, permissions);
    this.tokens.set(key, minting);
    minting.catch(() => this.tokens.delete(key));
    return (await minting).client;
  }

  private async mint(installationId: number, repo: string, permissions: Permissions): Promise<CachedToken> {
    const app = await this.probot.auth();
    const [, name] = repo.split("/");
    // Minting is no content write, but the app client's throttle paces every POST it sends one a
    // second across all installations: first dispatches to several installations would queue behind
    // each other. So the mint goes out on a client without that throttle, signed with the app's JWT.
    const { token: jwt } = (await app.auth({ type: "app" })) as { token: string };
    const { data } = await this.unthrottled(app)
      .request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
        repositories: [name],
        permissions,
        headers: { authorization: `bearer ${jwt}` },
      })
      .catch(async (error: unknown) => {
        // The app was uninstalled or reinstalled (a new id): forget the cached id so the next try looks it up.
        if ([401, 404].includes((error as { status?: number }).status ?? 0)) await this.forgetInstallation(repo);
        throw error;
      });
    const answer = tokenAnswer.parse(data);
    const OctokitWithDefaults = app.constructor as typeof ProbotOctokit;
    const client = new OctokitWithDefaults({
      auth: { token: answer.token },
      throttle: { id: String(installationId) },
    }) as Octokit;
    this.pacer.pace(client, installationId);
    return { client, renewAt: Date.parse(answer.expires_at) - TOKEN_RENEW_BEFORE_MS };
  }

  private unthrottledClient: Octokit | undefined;

  /** One client of the app's Octokit class with no auth and no throttle; callers sign each request. */
  private unthrottled(app: Octokit): Octokit {
    const OctokitWithDefaults = app.constructor as typeof ProbotOctokit;
    this.unthrottledClient ??= new OctokitWithDefaults({ throttle: { enabled: false } }) as Octokit;
    return this.unthrottledClient;
  }

  async installationId(repo: string): Promise<number> {
    const key = repo.toLowerCase();
    const cached = this.installations.get(key);
    if (cached && cached.until > Date.now()) return cached.id;
    let id = await readInstallationId(this.store, repo);
    if (id === null) {
      const [owner, name] = repo.split("/");
      const app = await this.probot.auth();
      try {
        const { data } = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo: name });
        id = data.id;
      } catch (error) {
        if ((error as { status?: number }).status === 404) {
          throw new RelayError("repo-not-found", `the app is not installed on ${repo}`, "app-not-installed");
        }
        throw error;
      }
      await storeInstallationId(this.store, repo, id, INSTALLATION_TTL_SECONDS);
    }
    this.installations.set(key, { id, until: Date.now() + INSTALLATION_TTL_SECONDS * 1000 });
    return id;
  }

  private async forgetInstallation(repo: string): Promise<void> {
    this.installations.delete(repo.toLowerCase());
    await forgetInstallationId(this.store, repo);
  }
}
