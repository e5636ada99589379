import type { DownstreamView, JobView, UpstreamRunView } from "./list-runs";
import type { RunsQuery } from "./list-runs";

/**
 * SPEC §7 `GET /relay/`: the runs list as one self-contained page (inline CSS, no scripts, nothing
 * fetched from elsewhere), readable at a glance: per upstream commit or PR, a row per downstream with
 * status colours, durations and links, newest first. Pure: views in, HTML out.
 */
export function renderDashboard(runs: UpstreamRunView[], query: RunsQuery): string {
  const title = query.upstream ? `ci-relay: ${query.upstream}${query.pr ? ` #${query.pr}` : query.sha ? ` @ ${query.sha.slice(0, 10)}` : ""}` : "ci-relay";
  const body = runs.length === 0 ? `<p class="empty">No dispatches yet.</p>` : runs.map(renderUpstream).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escape(title)}</h1><p class="hint">Newest first · refreshes every 30 s · <a href="v1/runs${queryString(query)}">JSON</a></p></header>
<main>
${body}
</main>
</body>
</html>
`;
}

function renderUpstream(run: UpstreamRunView): string {
  const { upstream } = run;
  const what = upstream.prNumber !== null ? `PR #${upstream.prNumber}` : escape(upstream.ref.replace(/^refs\/heads\//, ""));
  return `<section class="upstream">
<h2><span class="repo">${escape(upstream.repo)}</span> ${what} <code title="${escape(upstream.sha)}">${escape(upstream.sha.slice(0, 10))}</code>
<span class="meta">${escape(run.event)} · received <time datetime="${escape(run.receivedAt)}">${escape(run.receivedAt.replace("T", " ").slice(0, 19))} UTC</time></span></h2>
<table>
<thead><tr><th>downstream</th><th>level</th><th>status</th><th>jobs</th><th>queue</th><th>run</th></tr></thead>
<tbody>
${run.downstreams.map(renderDownstream).join("\n")}
</tbody>
</table>
</section>`;
}

function renderDownstream(d: DownstreamView): string {
  const status = overallStatus(d);
  const jobs = d.jobs.filter((j) => j.scope === "job");
  const queue = maxOf(d.jobs.map((j) => j.queueTimeSeconds));
  const run = maxOf(d.jobs.map((j) => j.executionTimeSeconds));
  const link = d.jobs.map((j) => safeUrl(j.url)).find((u) => u !== null);
  return `<tr class="downstream" data-repo="${escape(d.repo)}" data-status="${status}">
<td>${link ? `<a href="${escape(link)}">${escape(d.repo)}</a>` : escape(d.repo)}</td>
<td>${escape(d.level)}${d.transport === "queue" ? " · queue" : ""}</td>
<td><span class="status ${status}" title="${escape(d.lastError ?? "")}">${escape(status.replace("_", " "))}</span></td>
<td>${jobs.length === 0 ? "—" : jobs.map(renderJob).join(" ")}</td>
<td>${duration(queue)}</td>
<td>${duration(run)}</td>
</tr>`;
}

function renderJob(job: JobView): string {
  const status = job.state === "COMPLETED" ? (job.conclusion ?? "neutral") : job.state.toLowerCase();
  const label = `${escape(job.name)}${job.runAttempt !== "1" ? ` (attempt ${escape(job.runAttempt)})` : ""}`;
  const url = safeUrl(job.url);
  const chip = `<span class="status ${escape(status)}">${label}</span>`;
  return url ? `<a href="${escape(url)}">${chip}</a>` : chip;
}

/** One word per downstream: the run-level report if there is one, else the jobs', else the dispatch's. */
export function overallStatus(d: DownstreamView): string {
  if (d.dispatchState === "failed") return "dispatch_failed";
  if (d.dispatchState === "pending") return "pending";
  const run = d.jobs.find((j) => j.scope === "run");
  const relevant = run ? [run] : d.jobs;
  if (relevant.length === 0) return "dispatched";
  if (relevant.some((j) => j.state === "TIMED_OUT")) return "timed_out";
  if (relevant.some((j) => j.state === "IN_PROGRESS")) return "in_progress";
  const conclusions = relevant.map((j) => j.conclusion ?? "neutral");
  for (const worst of ["failure", "cancelled", "timed_out", "action_required"]) if (conclusions.includes(worst)) return worst;
  return conclusions.every((c) => c === "success" || c === "skipped" || c === "neutral") ? "success" : conclusions[0];
}

function maxOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}

function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** Downstream-reported URLs are untrusted: only http(s) becomes a link (no `javascript:`). */
function safeUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.toString() : null;
  } catch {
    return null;
  }
}

function queryString(query: RunsQuery): string {
  const params = new URLSearchParams();
  for (const key of ["upstream", "sha", "pr"] as const) if (query[key] !== undefined) params.set(key, String(query[key]));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --run: #9a6700; --idle: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem; }
h1 { font-size: 1.3rem; margin: 0; } .hint, .meta, .empty { color: var(--idle); font-size: .85rem; }
section.upstream { margin: 1.2rem 0; } h2 { font-size: 1rem; margin: .2rem 0 .4rem; } .repo { font-weight: 600; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
th { font-weight: 600; font-size: .8rem; color: var(--idle); }
.status { display: inline-block; border-radius: 1rem; padding: 0 .55rem; color: #fff; background: var(--idle); font-size: .8rem; white-space: nowrap; margin: 0 .15rem .15rem 0; }
.success { background: var(--ok); } .failure, .dispatch_failed, .timed_out, .cancelled, .action_required { background: var(--bad); }
.in_progress { background: var(--run); } .pending, .dispatched, .neutral, .skipped { background: var(--idle); }
a { color: inherit; }
`;
