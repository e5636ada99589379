import { z } from "zod";
import type { Permissions } from "../github/app-github";

/**
 * SPEC §6: the one table of broker operations. Each maps validated params to fixed GitHub calls on
 * the target repository; nothing the caller sends becomes a path, a URL, a shell word or an argv
 * entry. Adding an operation is one entry here (plus its test).
 */

export interface RepoTarget {
  owner: string;
  name: string;
}

/** One fixed GitHub REST call. `body` is sent as JSON exactly as `JSON.stringify` writes it. */
export interface GitHubCall {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number>;
  body?: Record<string, unknown>;
}

export interface BrokerOperation<P = Record<string, unknown>> {
  /** strict: unknown keys are refused */
  params: z.ZodType<P>;
  /** the least the installation token may carry for this operation */
  permissions: Permissions;
  writes: boolean;
  /** what the audit record's `resource` names: `issue/59`, `pulls`, `repo` */
  resource(params: P): string;
  /** the calls made, in order; a write makes exactly one, whose body ends with the request's marker */
  calls(target: RepoTarget, params: P, requestId: string): GitHubCall[];
  /** the answer's `data` from the calls' responses, in order */
  data(responses: unknown[]): unknown;
  /** writes only: the list in which an earlier attempt's marked item would be found */
  existing?(target: RepoTarget, params: P): GitHubCall;
}

/** Top-level fields of GitHub's answer to keep; the names GitHub uses (`title`, `head`, ...). */
const jsonFields = z
  .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/))
  .min(1)
  .max(50);
const number = z
  .int()
  .min(1)
  .max(2 ** 31 - 1);
/** A branch name as git allows it, optionally `owner:branch` for a fork's head. */
export const branchName = z
  .string()
  .max(255)
  .regex(/^([A-Za-z0-9-]{1,39}:)?(?!\/|.*(\.\.|\/\/|@\{|\.lock$|\/$|\.$))[A-Za-z0-9._/-]+$/, {
    error: "must be a branch name",
  });
const text = (max: number) => z.string().min(1).max(max);

const readOne = z.strictObject({ number, jsonFields: jsonFields.optional() });
const readMany = z.strictObject({
  state: z.enum(["open", "closed", "all"]).optional(),
  per_page: z.int().min(1).max(100).optional(),
  jsonFields: jsonFields.optional(),
});
const noParams = z.strictObject({});
const prCreate = z.strictObject({
  title: text(256),
  body: z.string().max(60_000).optional(),
  head: branchName,
  base: branchName,
  draft: z.boolean().optional(),
});
const commentCreate = z.strictObject({ number, body: text(60_000) });

type ReadOne = z.infer<typeof readOne>;
type ReadMany = z.infer<typeof readMany>;

const repoPath = (target: RepoTarget) =>
  `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.name)}`;
const only = (responses: unknown[]) => responses[0];
const listQuery = (params: ReadMany) => ({ state: params.state ?? "open", per_page: params.per_page ?? 30 });

/** Appended to what the broker writes, so a retry finds its earlier attempt instead of writing twice. */
export const requestMarker = (requestId: string) => `<!-- ci-relay:${requestId} -->`;
const withMarker = (body: string | undefined, requestId: string) =>
  body ? `${body}\n\n${requestMarker(requestId)}` : requestMarker(requestId);

const operation = <P>(entry: BrokerOperation<P>) => entry as unknown as BrokerOperation;

export const OPERATIONS = {
  "github.auth.status": operation<Record<string, never>>({
    params: noParams,
    permissions: { metadata: "read" },
    writes: false,
    resource: () => "repo",
    calls: (target) => [
      { method: "GET", path: "/rate_limit" },
      { method: "GET", path: repoPath(target) },
    ],
    data: ([rateLimit, repository]) => ({
      authenticated: true,
      rateLimit: (rateLimit as { resources?: { core?: unknown } }).resources?.core ?? null,
      repository: { full_name: (repository as { full_name?: unknown }).full_name ?? null },
    }),
  }),
  "github.issue.list": operation<ReadMany>({
    params: readMany,
    permissions: { issues: "read" },
    writes: false,
    resource: () => "issues",
    calls: (target, params) => [{ method: "GET", path: `${repoPath(target)}/issues`, query: listQuery(params) }],
    data: only,
  }),
  "github.issue.read": operation<ReadOne>({
    params: readOne,
    permissions: { issues: "read" },
    writes: false,
    resource: (params) => `issue/${params.number}`,
    calls: (target, params) => [{ method: "GET", path: `${repoPath(target)}/issues/${params.number}` }],
    data: only,
  }),
  "github.pr.list": operation<ReadMany>({
    params: readMany,
    permissions: { pull_requests: "read" },
    writes: false,
    resource: () => "pulls",
    calls: (target, params) => [{ method: "GET", path: `${repoPath(target)}/pulls`, query: listQuery(params) }],
    data: only,
  }),
  "github.pr.read": operation<ReadOne>({
    params: readOne,
    permissions: { pull_requests: "read" },
    writes: false,
    resource: (params) => `pull/${params.number}`,
    calls: (target, params) => [{ method: "GET", path: `${repoPath(target)}/pulls/${params.number}` }],
    data: only,
  }),
  "github.pr.create": operation<z.infer<typeof prCreate>>({
    params: prCreate,
    permissions: { pull_requests: "write" },
    writes: true,
    resource: () => "pulls",
    calls: (target, params, requestId) => [
      {
        method: "POST",
        path: `${repoPath(target)}/pulls`,
        body: { ...params, body: withMarker(params.body, requestId) },
      },
    ],
    data: only,
    existing: (target, params) => ({
      method: "GET",
      path: `${repoPath(target)}/pulls`,
      query: {
        state: "all",
        head: params.head.includes(":") ? params.head : `${target.owner}:${params.head}`,
        per_page: 100,
      },
    }),
  }),
  "github.pr.comment.create": operation<z.infer<typeof commentCreate>>({
    params: commentCreate,
    permissions: { issues: "write" },
    writes: true,
    resource: (params) => `issue/${params.number}`,
    calls: (target, params, requestId) => [
      {
        method: "POST",
        path: `${repoPath(target)}/issues/${params.number}/comments`,
        body: { body: withMarker(params.body, requestId) },
      },
    ],
    data: only,
    existing: (target, params) => ({
      method: "GET",
      path: `${repoPath(target)}/issues/${params.number}/comments`,
      query: { per_page: 100 },
    }),
  }),
} satisfies Record<string, BrokerOperation>;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

export function findOperation(name: string): BrokerOperation | null {
  return Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name as OperationName] : null;
}
