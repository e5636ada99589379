import { z } from "zod";

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
  prNumber: number | null;
  authorAssociation: string | null;
  labels: string[];
  /** for `labeled`: the label just added */
  addedLabel: string | null;
  /** push: a branch deletion (`after` all zeros) */
  deleted: boolean;
  senderLogin: string | null;
}

const repository = z.object({ full_name: z.string() });
const sender = z.object({ login: z.string() }).nullish();

const pullRequestPayload = z.object({
  action: z.string(),
  number: z.number().int(),
  repository,
  sender,
  label: z.object({ name: z.string() }).nullish(),
  pull_request: z.object({
    head: z.object({ sha: z.string() }),
    author_association: z.string().nullish(),
    labels: z.array(z.object({ name: z.string() })).nullish(),
  }),
});

const pushPayload = z.object({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean().nullish(),
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
    return {
      event: "push",
      action: null,
      repo: p.repository.full_name,
      sha: p.after,
      ref: p.ref,
      prNumber: null,
      authorAssociation: null,
      labels: [],
      addedLabel: null,
      deleted: Boolean(p.deleted) || ZERO_SHA.test(p.after),
      senderLogin: p.sender?.login ?? null,
    };
  }
  return null;
}
