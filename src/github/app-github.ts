import type { Probot, ProbotOctokit } from "probot";
import { z } from "zod";
import { RelayError } from "../http/failure-kinds";
import type { Metrics } from "../metrics/metrics";
import type { Store } from "../store/store";

export type Permission = "read" | "write";
export type Permissions = Partial<Record<"contents" | "checks" | "actions" | "issues" | "pull_requests" | "metadata", Permission>>;

type Octokit = InstanceType<typeof ProbotOctokit>;

/** Installation ids change only on (re)install; an hour keeps lookups off the hot path. */
const INSTALLATION_TTL_SECONDS = 3600;
const installationKey = (repo: string) => `relay:installation:${repo.toLowerCase()}`;
const tokenAnswer = z.object({ token: z.string() });

/**
 * The app's way into GitHub: an Octokit per (repository, permissions) whose installation token is
 * scoped to that one repository and those permissions. Installation ids are cached in the store
 * (shared by every process) and in memory; tokens are cached in memory only (never written to the
 * store: they are secrets) by Probot's token cache until shortly before they expire.
 */
export class AppGitHub {
  private readonly installations = new Map<string, { id: number; until: number }>();
  private readonly clients = new Map<string, Octokit>();

  constructor(
    private readonly probot: Probot,
    private readonly store: Store,
    private readonly metrics: Metrics,
  ) {}

  async forRepo(repo: string, permissions: Permissions): Promise<Octokit> {
    const installationId = await this.installationId(repo);
    const app = await this.probot.auth();
    const [, name] = repo.split("/");
    const answer = tokenAnswer.parse(
      await app.auth({ type: "installation", installationId, repositoryNames: [name], permissions }),
    );
    let client = this.clients.get(answer.token);
    if (!client) {
      if (this.clients.size > 500) this.clients.clear();
      const OctokitWithDefaults = app.constructor as typeof ProbotOctokit;
      client = new OctokitWithDefaults({
        auth: { token: answer.token },
        throttle: { id: String(installationId) },
      }) as Octokit;
      this.count(client);
      this.clients.set(answer.token, client);
    }
    return client;
  }

  async installationId(repo: string): Promise<number> {
    const key = repo.toLowerCase();
    const cached = this.installations.get(key);
    if (cached && cached.until > Date.now()) return cached.id;
    const stored = await this.store.get(installationKey(repo));
    let id = stored === null ? null : Number(stored);
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
      await this.store.write([{ op: "set", key: installationKey(repo), value: String(id), ttlSeconds: INSTALLATION_TTL_SECONDS }]);
    }
    this.installations.set(key, { id, until: Date.now() + INSTALLATION_TTL_SECONDS * 1000 });
    return id;
  }

  private count(client: Octokit): void {
    client.hook.after("request", (response, options) => {
      this.metrics.githubCalls.inc({ method: options.method, status: `${String(response.status)[0]}xx` });
    });
    client.hook.error("request", (error, options) => {
      const status = (error as { status?: number }).status;
      this.metrics.githubCalls.inc({ method: options.method, status: status ? `${String(status)[0]}xx` : "network" });
      throw error;
    });
  }
}
