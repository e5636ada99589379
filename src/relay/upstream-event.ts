import { z } from "zod";
import { ciflowPrNumber } from "./ciflow-tag";

/**
 * The facts of an upstream `pull_request` or `push` delivery that relay decisions depend on. Parsed
 * from the webhook payload at the edge so the planner works on typed values only.
 */
export interface UpstreamEvent {
  event: "pull_request" | "push";
  action: string | null;
  repo: string;
  sha: string;
  /** `refs/pull/<n>/head` for a PR, the pushed ref for a push */
  ref: string;
  /** the PR, or for a `ciflow/<name>/<N>` tag push the PR #N it asks CI for; null for other pushes */
  prNumber: number | null;
  /** https clone URL of the repository holding `sha`: a PR's head repository (a fork's own), else the upstream */
  cloneUrl: string | null;
  authorAssociation: string | null;
  labels: string[];
  /** for `labeled`: the label just added */
  addedLabel: string | null;
  /** push: a branch or tag deletion (`after` all zeros) */
  deleted: boolean;
  senderLogin: string | null;
}

const repository = z.object({ full_name: z.string(), clone_url: z.string().nullish() });
const sender = z.object({ login: z.string() }).nullish();

const pullRequestPayload = z.object({
  action: z.string(),
  number: z.number().int(),
  repository,
  sender,
  label: z.object({ name: z.string() }).nullish(),
  pull_request: z.object({
    head: z.object({ sha: z.string(), repo: z.object({ clone_url: z.string().nullish() }).nullish() }),
    author_association: z.string().nullish(),
    labels: z.array(z.object({ name: z.string() })).nullish(),
  }),
});

const pushPayload = z.object({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean().nullish(),
  /** for an annotated tag `after` is the tag object; this is the commit it tags */
  head_commit: z.object({ id: z.string() }).nullish(),
  repository,
  sender,
});

const ZERO_SHA = /^0+$/;

/** Returns null when the payload lacks what a relayed event needs (it is then not relayed). */
export function parseUpstreamEvent(eventName: string, payload: unknown): UpstreamEvent | null {
  if (eventName === "pull_request") {
    const parsed = pullRequestPayload.safeParse(payload);
    if (!parsed.success) return null;
    const p = parsed.data;
    return {
      event: "pull_request",
      action: p.action,
      repo: p.repository.full_name,
      sha: p.pull_request.head.sha,
      ref: `refs/pull/${p.number}/head`,
      prNumber: p.number,
      // A fork that was deleted leaves head.repo null: the commit is still fetchable from the upstream.
      cloneUrl: p.pull_request.head.repo?.clone_url ?? p.repository.clone_url ?? null,
      authorAssociation: p.pull_request.author_association ?? null,
      labels: (p.pull_request.labels ?? []).map((l) => l.name),
      addedLabel: p.label?.name ?? null,
      deleted: false,
      senderLogin: p.sender?.login ?? null,
    };
  }
  if (eventName === "push") {
    const parsed = pushPayload.safeParse(payload);
    if (!parsed.success) return null;
    const p = parsed.data;
    const deleted = Boolean(p.deleted) || ZERO_SHA.test(p.after);
    return {
      event: "push",
      action: null,
      repo: p.repository.full_name,
      sha: !deleted && p.ref.startsWith("refs/tags/") ? (p.head_commit?.id ?? p.after) : p.after,
      ref: p.ref,
      prNumber: ciflowPrNumber(p.ref),
      cloneUrl: p.repository.clone_url ?? null,
      authorAssociation: null,
      labels: [],
      addedLabel: null,
      deleted,
      senderLogin: p.sender?.login ?? null,
    };
  }
  return null;
}
