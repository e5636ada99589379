import type { CheckConclusion } from "../../vocabulary/check-conclusions";
import type { CheckStatus } from "../../records/check-runs";

/** Marks a comment as the relay's oncall comment (hidden in the rendered page). */
export const ONCALL_COMMENT_MARKER = "<!-- ci-relay:oncall-comment -->";

/** One notifying downstream's per-downstream check on the PR's head commit, as it stands. */
export interface OncallRow {
  /** config spelling */
  downstream: string;
  oncalls: readonly string[];
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  /** the downstream run, or the dashboard before one is known; reported by the downstream, so untrusted */
  url: string;
}

export interface OncallCommentView {
  sha: string;
  /** config order */
  rows: readonly OncallRow[];
  dashboardUrl: string;
}

const FAILING: ReadonlySet<CheckConclusion> = new Set(["failure", "timed_out"]);

/** A row that asks for its oncalls: the per-downstream check concluded failure or timed_out. Pure. */
export function isFailing(row: Pick<OncallRow, "status" | "conclusion">): boolean {
  return row.status === "completed" && row.conclusion !== null && FAILING.has(row.conclusion);
}

/**
 * The comment's body: each notifying downstream's latest state on the head commit, its run, and for
 * a failing one its oncalls as @mentions. Everything a downstream reported (the run URL) is reduced
 * to an http(s) link that cannot break out of its cell or mention anyone. Pure.
 */
export function renderOncallComment(view: OncallCommentView): string {
  const rows = view.rows.map((row) => {
    const result =
      row.status === "completed" ? (row.conclusion ?? "neutral").replace(/_/g, " ") : row.status.replace(/_/g, " ");
    const url = markdownUrl(row.url);
    const run = url === null ? "" : ` · [run](${url})`;
    const oncalls = isFailing(row) ? row.oncalls.map(mention).join(" ") : "";
    return `| ${row.downstream} | ${isFailing(row) ? `**${result}**` : result}${run} | ${oncalls} |`;
  });
  const dashboard = markdownUrl(view.dashboardUrl);
  return [
    ONCALL_COMMENT_MARKER,
    `**Downstream CI** on ${view.sha.slice(0, 10)}:`,
    "",
    "| downstream | result | oncalls |",
    "| --- | --- | --- |",
    ...rows,
    "",
    `ci-relay keeps this comment up to date with each result for the pull request's head commit${dashboard === null ? "." : ` ([dashboard](${dashboard})).`}`,
  ].join("\n");
}

/** A GitHub login (or `org/team`), with or without its `@`. */
const LOGIN = /^@?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9._-]{1,100})?)$/;

/** A login is mentioned; anything else is shown as inert text (no mention, no markup, no cell break). */
function mention(oncall: string): string {
  const login = LOGIN.exec(oncall.trim());
  return login ? `@${login[1]}` : oncall.replace(/[^A-Za-z0-9 ]/g, (c) => `&#${c.codePointAt(0)};`);
}

/** Only http(s); the characters that could end a link or a table cell are percent-encoded. */
function markdownUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
    return parsed
      .toString()
      .replace(/[()[\]<>|'"`\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  } catch {
    return null;
  }
}
