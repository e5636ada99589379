import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEMO_APP, DEMO_INSTALLATION_ID, DEMO_REPOS } from "./demo-world";

/**
 * A stand-in for the few GitHub REST endpoints the relay calls while the demo runs, served as a
 * GitHub Enterprise host (`GHE_HOST`, `/api/v3`). It keeps check runs in memory and hands every
 * repository_dispatch to the downstream simulator. It does not check credentials: it is only ever
 * reached on loopback by the demo's own relay.
 */

export interface DemoDispatch {
  repo: string;
  eventType: string;
  clientPayload: Record<string, unknown>;
}

interface CheckRun {
  id: number;
  repo: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  output: unknown;
}

type Reply = { status: number; body?: unknown };

const PERMISSIONS = {
  contents: "write",
  metadata: "read",
  checks: "write",
  pull_requests: "write",
  issues: "write",
  actions: "write",
};

const notFound: Reply = {
  status: 404,
  body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" },
};

function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        resolve(value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {});
      } catch {
        resolve({});
      }
    });
  });
}

export class DemoGitHub {
  private readonly checkRuns: CheckRun[] = [];
  private readonly dispatchListeners: ((dispatch: DemoDispatch) => void)[] = [];
  private server: Server | null = null;
  /** `127.0.0.1:<port>` once started: the relay's GHE_HOST */
  host = "";
  private readonly unservedListeners: ((endpoint: string) => void)[] = [];
  private readonly concludedListeners: ((run: { repo: string; name: string; conclusion: string }) => void)[] = [];

  /** Told when the relay concludes an upstream check run, as the PR page would show it. */
  onCheckRunConcluded(listener: (run: { repo: string; name: string; conclusion: string }) => void): void {
    this.concludedListeners.push(listener);
  }

  /** Told of each request this stand-in has no answer for (it answers 404, as GitHub would for a wrong path). */
  onUnserved(listener: (endpoint: string) => void): void {
    this.unservedListeners.push(listener);
  }

  onDispatch(listener: (dispatch: DemoDispatch) => void): void {
    this.dispatchListeners.push(listener);
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://demo");
    const path = url.pathname.replace(/^\/api\/v3/, "");
    const body = request.method === "POST" || request.method === "PATCH" ? await readJson(request) : {};
    const reply = this.answer(request.method ?? "GET", path, body);
    if (reply === notFound) for (const listener of this.unservedListeners) listener(`${request.method} ${path}`);
    response.writeHead(reply.status, { "content-type": "application/json; charset=utf-8" });
    response.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  }

  private answer(method: string, path: string, body: Record<string, unknown>): Reply {
    const repoMatch = /^\/repos\/([^/]+\/[^/]+)(\/.*)?$/.exec(path);
    const repo = repoMatch && DEMO_REPOS.find((known) => known.toLowerCase() === repoMatch[1].toLowerCase());
    const rest = repoMatch?.[2] ?? "";
    if (method === "GET" && path === "/app")
      return { status: 200, body: { id: DEMO_APP.id, slug: DEMO_APP.slug, name: DEMO_APP.slug } };
    if (method === "POST" && path === `/app/installations/${DEMO_INSTALLATION_ID}/access_tokens`) {
      return {
        status: 201,
        body: {
          token: `ghs_demo${randomBytes(12).toString("hex")}`,
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          permissions: body.permissions ?? PERMISSIONS,
          repository_selection: "selected",
        },
      };
    }
    if (!repo) return notFound;
    if (method === "GET" && rest === "/installation") {
      return {
        status: 200,
        body: {
          id: DEMO_INSTALLATION_ID,
          app_id: DEMO_APP.id,
          account: { login: repo.split("/")[0], type: "Organization" },
          permissions: PERMISSIONS,
        },
      };
    }
    if (method === "GET" && rest === "")
      return {
        status: 200,
        body: { full_name: repo, name: repo.split("/")[1], default_branch: "main", private: false },
      };
    if (method === "POST" && rest === "/dispatches") {
      const dispatch = {
        repo,
        eventType: String(body.event_type),
        clientPayload: (body.client_payload ?? {}) as Record<string, unknown>,
      };
      for (const listener of this.dispatchListeners) listener(dispatch);
      return { status: 204 };
    }
    if (method === "POST" && rest === "/check-runs") {
      const run: CheckRun = {
        id: this.checkRuns.length + 1,
        repo,
        head_sha: String(body.head_sha),
        name: String(body.name),
        status: typeof body.status === "string" ? body.status : "queued",
        conclusion: typeof body.conclusion === "string" ? body.conclusion : null,
        external_id: typeof body.external_id === "string" ? body.external_id : null,
        details_url: typeof body.details_url === "string" ? body.details_url : null,
        output: body.output ?? null,
      };
      this.checkRuns.push(run);
      this.tellIfConcluded(run);
      return { status: 201, body: this.checkRunJson(run) };
    }
    const checkRun = /^\/check-runs\/(\d+)$/.exec(rest);
    if (checkRun) {
      const run = this.checkRuns.find((candidate) => candidate.id === Number(checkRun[1]) && candidate.repo === repo);
      if (!run) return notFound;
      if (method === "PATCH") {
        for (const key of ["status", "conclusion", "details_url", "external_id", "name", "output"] as const) {
          if (body[key] !== undefined) Object.assign(run, { [key]: body[key] });
        }
        this.tellIfConcluded(run);
      }
      return { status: 200, body: this.checkRunJson(run) };
    }
    const listing = /^\/commits\/([^/]+)\/check-runs$/.exec(rest);
    if (method === "GET" && listing) {
      const runs = this.checkRuns.filter((run) => run.repo === repo && run.head_sha === listing[1]);
      return { status: 200, body: { total_count: runs.length, check_runs: runs.map((run) => this.checkRunJson(run)) } };
    }
    return notFound;
  }

  private tellIfConcluded(run: CheckRun): void {
    // As on GitHub, a conclusion completes the check run whatever status was sent.
    if (run.conclusion !== null) run.status = "completed";
    if (run.conclusion === null) return;
    for (const listener of this.concludedListeners)
      listener({ repo: run.repo, name: run.name, conclusion: run.conclusion });
  }

  private checkRunJson(run: CheckRun): Record<string, unknown> {
    return {
      ...run,
      app: { id: DEMO_APP.id, slug: DEMO_APP.slug },
      html_url: `https://github.com/${run.repo}/runs/${run.id}`,
    };
  }
}
