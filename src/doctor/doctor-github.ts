import { createPrivateKey } from "node:crypto";
import { SignJWT } from "jose";

/**
 * The few read-only GitHub calls `ci-relay doctor` makes with the app's credentials: an App JWT to find
 * the installation, then an installation token scoped to the one repository with contents: read.
 */
export interface DoctorGitHubOptions {
  appId: string;
  privateKeyPem: string;
  /** e.g. https://api.github.com, or http://host/api/v3 for GitHub Enterprise */
  baseUrl: string;
  fetch: typeof fetch;
}

export class GitHubAnswerError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`${what}: GitHub answered ${status}`);
  }
}

export class GitHubUnreachable extends Error {
  constructor(baseUrl: string) {
    super(`${baseUrl} could not be reached`);
  }
}

export class DoctorGitHub {
  constructor(private readonly options: DoctorGitHubOptions) {}

  private async appJwt(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    // GitHub refuses an iat in the future; 60 s back covers clock drift, as Probot does.
    return new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer(this.options.appId)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + 540)
      .sign(createPrivateKey(this.options.privateKeyPem));
  }

  private async call(
    path: string,
    init: { method?: string; auth: string; accept?: string; body?: unknown },
  ): Promise<Response> {
    const request = this.options.fetch(`${this.options.baseUrl}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: init.auth,
        accept: init.accept ?? "application/vnd.github+json",
        "user-agent": "ci-relay-doctor",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(30_000),
    });
    return request.catch(() => {
      throw new GitHubUnreachable(this.options.baseUrl);
    });
  }

  /** The app's installation on the repository; null when it is not installed there. */
  async installation(repo: string): Promise<{ id: number; permissions: Record<string, string> } | null> {
    const response = await this.call(`/repos/${repo}/installation`, { auth: `Bearer ${await this.appJwt()}` });
    if (response.status === 404) return null;
    if (!response.ok) throw new GitHubAnswerError(response.status, `GET /repos/${repo}/installation`);
    const body = (await response.json()) as { id: number; permissions?: Record<string, string> };
    return { id: body.id, permissions: body.permissions ?? {} };
  }

  /** A token for reading the one repository's files. */
  async readToken(installationId: number, repo: string): Promise<string> {
    const response = await this.call(`/app/installations/${installationId}/access_tokens`, {
      method: "POST",
      auth: `Bearer ${await this.appJwt()}`,
      body: { repositories: [repo.split("/")[1]], permissions: { contents: "read", metadata: "read" } },
    });
    if (!response.ok) throw new GitHubAnswerError(response.status, "POST /app/installations/{id}/access_tokens");
    return ((await response.json()) as { token: string }).token;
  }

  /** The text of every `.yml`/`.yaml` file in `.github/workflows`; null when the folder cannot be listed. */
  async workflowFiles(repo: string, token: string): Promise<{ path: string; text: string }[] | null> {
    const listing = await this.call(`/repos/${repo}/contents/.github/workflows`, { auth: `token ${token}` });
    if (listing.status === 404) return [];
    if (!listing.ok) return null;
    const entries = (await listing.json()) as unknown;
    if (!Array.isArray(entries)) return null;
    const paths = entries
      .filter((entry: unknown): entry is { type: string; path: string } => isFileEntry(entry))
      .map((entry) => entry.path)
      .filter((path) => /\.ya?ml$/.test(path));
    return Promise.all(paths.map(async (path) => ({ path, text: await this.fileText(repo, path, token) })));
  }

  async fileText(repo: string, path: string, token: string): Promise<string> {
    const response = await this.call(`/repos/${repo}/contents/${path}`, {
      auth: `token ${token}`,
      accept: "application/vnd.github.raw",
    });
    if (!response.ok) throw new GitHubAnswerError(response.status, `GET /repos/${repo}/contents/${path}`);
    return response.text();
  }
}

function isFileEntry(entry: unknown): entry is { type: string; path: string } {
  if (typeof entry !== "object" || entry === null) return false;
  const { path, type } = entry as { path?: unknown; type?: unknown };
  return typeof path === "string" && type === "file";
}
