import type { DeliveryView } from "./delivery-view";
import type { StateName } from "./downstream-state";
import type { DownstreamView, JobView, RunsQuery, UpstreamRunView } from "./list-runs";
import { describeFailedThreshold } from "../levels/describe-failed-threshold";
import { pagePolicy } from "./page-policy";
import type { DownstreamSummary, DownstreamsSummary, Percentiles } from "./summarize-downstreams";

/**
 * SPEC §7 `GET /relay/`: the runs list as one self-contained page, readable at a glance on a desk or a
 * phone: stuck work first, then a row per downstream with its recent record, then per upstream commit
 * or PR a row per downstream (config order) with its state, the reason for it and its age, newest
 * first, then the recent deliveries that dispatched to nobody, each downstream with the reason it
 * was skipped ("Not relayed"). Nothing is fetched from elsewhere; the one inline script and style are allowed by hash
 * (`DASHBOARD_CSP`), so no other script can run even if escaping failed. Pure: views in, HTML out.
 */
export function renderDashboard(
  runs: UpstreamRunView[],
  query: RunsQuery,
  summary: DownstreamsSummary | null,
  notRelayed: DeliveryView[] = [],
): string {
  const title = query.upstream
    ? `ci-relay: ${query.upstream}${query.pr ? ` #${query.pr}` : query.sha ? ` @ ${query.sha.slice(0, 10)}` : ""}`
    : "ci-relay";
  const body = runs.length === 0 ? `<p class="empty">No dispatches yet.</p>` : runs.map(renderUpstream).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS}"></noscript>
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escape(title)}</h1><p class="hint">Newest first · times in UTC · refreshes every ${REFRESH_SECONDS} s · JSON: <a href="v1/runs${queryString(query)}">runs</a>, <a href="v1/downstreams">downstreams</a></p></header>
<main>
${renderStuck(runs)}
${summary === null ? "" : renderSummary(summary)}
${body}
${renderNotRelayed(notRelayed)}
</main>
<script>${REFRESH_SCRIPT}</script>
</body>
</html>
`;
}

const REFRESH_SECONDS = 30;

/**
 * Reloads the page every 30 s and puts the reader back where they were: the row at the top of the
 * screen stays at the same height, even when new deliveries arrived above it meanwhile (a meta
 * refresh, or the browser's own restore, keeps only the pixel offset, so the page jumps as it grows).
 * Static, so the CSP allows it by hash; without JavaScript the `<noscript>` meta refresh reloads.
 */
const REFRESH_SCRIPT = `(function () {
  var key = "ci-relay-scroll:" + location.pathname + location.search;
  history.scrollRestoration = "manual";
  function rows() { return document.querySelectorAll("[data-anchor]"); }
  var saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
  sessionStorage.removeItem(key);
  if (saved) {
    var list = rows(), found = null;
    for (var i = 0; i < list.length && !found; i++) if (list[i].getAttribute("data-anchor") === saved.anchor) found = list[i];
    window.scrollTo(0, found ? window.scrollY + found.getBoundingClientRect().top - saved.offset : saved.y);
  }
  setTimeout(function () {
    var list = rows(), top = null;
    for (var i = 0; i < list.length && !top; i++) if (list[i].getBoundingClientRect().bottom > 0) top = list[i];
    sessionStorage.setItem(key, JSON.stringify({ y: window.scrollY, anchor: top && top.getAttribute("data-anchor"), offset: top ? top.getBoundingClientRect().top : 0 }));
    location.reload();
  }, ${REFRESH_SECONDS * 1000});
})();`;

function renderStuck(runs: UpstreamRunView[]): string {
  const stuck = runs.flatMap((run) => run.downstreams.filter((d) => d.state.stuck !== null).map((d) => ({ run, d })));
  if (stuck.length === 0) return "";
  const rows = stuck.map(
    ({
      run,
      d,
    }) => `<tr class="downstream stuck" data-repo="${escape(d.repo)}" data-status="${d.state.name}" data-anchor="stuck:${escape(d.requestId ?? d.repo)}">
<td data-label="downstream">${escape(d.repo)}</td>
<td data-label="for">${upstreamLabel(run)}</td>
<td data-label="status">${statusPill(d.state.name)} <span class="stuck-tag">stuck</span> ${escape(d.state.stuck ?? "")}</td>
<td data-label="since">${age(d.state.ageSeconds)}</td>
</tr>`,
  );
  return `<section class="stuck-work" aria-labelledby="stuck-title">
<h2 id="stuck-title">Stuck (${stuck.length})</h2>
<table>
<thead><tr><th>downstream</th><th>for</th><th>status</th><th>since</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

function renderSummary(summary: DownstreamsSummary): string {
  if (summary.downstreams.length === 0) return "";
  const rows = summary.downstreams.map(
    (s) => `<tr class="summary" data-repo="${escape(s.repo)}" data-anchor="summary:${escape(s.repo)}">
<td data-label="downstream">${escape(s.repo)}</td>
<td data-label="level">${escape(s.level)} ${levelVerdict(s)}</td>
<td data-label="success">${percent(s.successRate)} <span class="meta">· ${s.dispatches} dispatch${s.dispatches === 1 ? "" : "es"}</span></td>
<td data-label="picked up">${percent(s.pickupRate)}${s.timeouts > 0 ? ` <span class="meta">${s.timeouts} timed out</span>` : ""}</td>
<td data-label="queue p50/p95">${spread(s.queueSeconds)}</td>
<td data-label="run p50/p95">${spread(s.executionSeconds)}</td>
<td data-label="last report">${s.lastReportAt === null ? "never" : timeTag(s.lastReportAt)}</td>
<td data-label="oncalls">${s.oncalls.length === 0 ? "—" : s.oncalls.map((o) => escape(o)).join(", ")}</td>
</tr>`,
  );
  return `<section class="downstreams" aria-labelledby="summary-title">
<h2 id="summary-title">Downstreams, last ${summary.windowDays} days</h2>
<table>
<thead><tr><th>downstream</th><th>level</th><th>success</th><th>picked up</th><th>queue p50/p95</th><th>run p50/p95</th><th>last report</th><th>oncalls</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

/** Meets or below its level's thresholds (`levels:`), and which ones fail. */
function levelVerdict(s: DownstreamSummary): string {
  if (s.meetsLevel) return `<span class="status success level-verdict">meets</span>`;
  return `<span class="status failure level-verdict">below</span> <span class="reason">${s.failedThresholds.map((f) => escape(describeFailedThreshold(f))).join("; ")}</span>`;
}

function renderUpstream(run: UpstreamRunView): string {
  // A nightly or periodic report follows no delivery: nothing to explain beyond its commit.
  const meta =
    run.upstream.ref === null
      ? `${escape(run.event)} report · first reported ${timeTag(run.receivedAt)}`
      : `${escape(run.event)} · accepted by the relay ${timeTag(run.receivedAt)} · <a href="v1/deliveries/${encodeURIComponent(run.deliveryId)}">why? (delivery ${escape(run.deliveryId)})</a>`;
  return `<section class="upstream">
<h2>${upstreamLabel(run)}
<span class="meta">${meta}</span></h2>
<table>
<thead><tr><th>downstream</th><th>level</th><th>status</th><th>jobs</th><th>queue</th><th>run</th></tr></thead>
<tbody>
${run.downstreams.map((d) => renderDownstream(d, d.requestId ?? `${run.event}:${run.upstream.sha}:${d.repo}`)).join("\n")}
</tbody>
</table>
</section>`;
}

/** SPEC §7 skip reasons in words; `detail` (which names the branch, action or trust label) follows. */
const SKIP_WORDS: Record<string, string> = {
  "own-event": "sent by this app",
  "not-upstream": "not an upstream",
  "branch-not-relayed": "branch not relayed",
  "action-not-relayed": "action not relayed",
  "untrusted-author": "untrusted author",
  "event-not-wanted": "event not wanted",
  "nightly-only": "nightly-only",
};

/** Deliveries that dispatched to nobody, newest first: per downstream (config order), why not. */
function renderNotRelayed(deliveries: DeliveryView[]): string {
  if (deliveries.length === 0) return "";
  const rows = deliveries.map((delivery) => {
    const { upstream } = delivery;
    const what = `${delivery.event}${delivery.action ? ` ${delivery.action}` : ""}`;
    const where =
      upstream.pr_number !== null ? `PR #${upstream.pr_number}` : escape(upstream.ref.replace(/^refs\/heads\//, ""));
    const why = delivery.downstreams.map(
      (d) =>
        `<div class="skip" data-repo="${escape(d.repo)}">${escape(d.repo)}: <span class="status skipped">${escape(SKIP_WORDS[d.reason ?? ""] ?? d.reason ?? "skipped")}</span> <span class="reason">${escape(d.detail ?? "")}</span></div>`,
    );
    return `<tr class="not-relayed" data-delivery="${escape(delivery.deliveryId)}" data-anchor="skip:${escape(delivery.deliveryId)}">
<td data-label="received">${timeTag(delivery.receivedAt)}</td>
<td data-label="event">${escape(what)}</td>
<td data-label="for"><span class="repo">${escape(upstream.repo)}</span> ${where} <code title="${escape(upstream.sha)}">${escape(upstream.sha.slice(0, 10))}</code></td>
<td data-label="why not">${why.length === 0 ? "no downstreams configured" : why.join("\n")}</td>
<td data-label="delivery"><a href="deliveries/${encodeURIComponent(delivery.deliveryId)}">details</a></td>
</tr>`;
  });
  return `<section class="not-relayed" aria-labelledby="not-relayed-title">
<h2 id="not-relayed-title">Not relayed (${deliveries.length})</h2>
<table>
<thead><tr><th>received</th><th>event</th><th>for</th><th>why not, per downstream</th><th>delivery</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

function upstreamLabel(run: UpstreamRunView): string {
  const { upstream } = run;
  const what =
    upstream.ref === null
      ? `<span class="report-kind">${escape(run.event)}</span>`
      : upstream.prNumber !== null
        ? `PR #${upstream.prNumber}`
        : escape(upstream.ref.replace(/^refs\/heads\//, ""));
  return `<span class="repo">${escape(upstream.repo)}</span> ${what} <code title="${escape(upstream.sha)}">${escape(upstream.sha.slice(0, 10))}</code>`;
}

function renderDownstream(d: DownstreamView, anchor: string): string {
  const jobs = d.jobs.filter((j) => j.scope === "job");
  const queue = maxOf(d.jobs.map((j) => j.queueTimeSeconds));
  const run = maxOf(d.jobs.map((j) => j.executionTimeSeconds));
  const link = d.jobs.map((j) => safeUrl(j.url)).find((u) => u !== null);
  return `<tr class="downstream${d.state.stuck === null ? "" : " stuck"}" data-repo="${escape(d.repo)}" data-status="${d.state.name}" data-anchor="${escape(anchor)}">
<td data-label="downstream">${link ? `<a href="${escape(link)}">${escape(d.repo)}</a>` : escape(d.repo)}</td>
<td data-label="level">${escape(d.level)}${d.transport === "queue" ? " · queue" : ""}</td>
<td data-label="status">${statusPill(d.state.name)}${d.state.stuck === null ? "" : ` <span class="stuck-tag">stuck</span>`}
<div class="reason">${escape(d.state.reason)}${d.state.ageSeconds === null ? "" : ` · ${age(d.state.ageSeconds)}`}</div>${renderOncalls(d)}</td>
<td data-label="jobs">${jobs.length === 0 ? "—" : jobs.map(renderJob).join(" ")}</td>
<td data-label="queue">${duration(queue)}</td>
<td data-label="run">${duration(run)}</td>
</tr>`;
}

/** States someone should look at: the row names who to ask. */
const NEEDS_ONCALLS: ReadonlySet<StateName> = new Set(["failure", "timed_out", "given_up"]);

function renderOncalls(d: DownstreamView): string {
  if (d.oncalls.length === 0 || (!NEEDS_ONCALLS.has(d.state.name) && d.state.stuck === null)) return "";
  return `<div class="oncalls meta">oncalls: ${d.oncalls.map((o) => escape(o)).join(", ")}</div>`;
}

function renderJob(job: JobView): string {
  const status = job.state === "COMPLETED" ? (job.conclusion ?? "neutral") : job.state.toLowerCase();
  const label = `${escape(job.name)}: ${escape(status.replace(/_/g, " "))}${job.runAttempt !== "1" ? ` (attempt ${escape(job.runAttempt)})` : ""}`;
  const url = safeUrl(job.url);
  const chip = `<span class="status ${cssClass(status)}">${label}</span>`;
  return url ? `<a href="${escape(url)}">${chip}</a>` : chip;
}

/** The words on each state's pill: colour is never the only signal. */
const STATE_LABELS: Record<StateName, string> = {
  pending: "pending",
  retrying: "retrying",
  given_up: "given up",
  superseded: "superseded",
  queued: "queued",
  in_progress: "in progress",
  success: "success",
  failure: "failure",
  timed_out: "timed out",
  cancelled: "cancelled",
  completed: "completed",
};

function statusPill(name: StateName): string {
  return `<span class="status ${name}">${STATE_LABELS[name]}</span>`;
}

/** Job conclusions are downstream-reported: only known words become a class. */
function cssClass(status: string): string {
  return /^[a-z_]+$/.test(status) && status in STYLE_CLASSES ? status : "neutral";
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

function age(seconds: number | null): string {
  return seconds === null ? "—" : `for ${duration(seconds)}`;
}

function spread(p: Percentiles): string {
  return p.p50 === null ? "—" : `${duration(p.p50)} / ${duration(p.p95)}`;
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)}%`;
}

function timeTag(isoTime: string): string {
  return `<time datetime="${escape(isoTime)}">${escape(isoTime.replace("T", " ").slice(0, 19))} UTC</time>`;
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
  for (const key of ["upstream", "sha", "pr"] as const)
    if (query[key] !== undefined) params.set(key, String(query[key]));
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/** One colour per state (and per job conclusion), each distinct; the pill's text says the same. */
const STYLE_CLASSES: Record<string, string> = {
  pending: "#6e7781",
  retrying: "#bc4c00",
  given_up: "#82071e",
  superseded: "#953800",
  queued: "#0969da",
  in_progress: "#9a6700",
  success: "#1a7f37",
  failure: "#cf222e",
  timed_out: "#8250df",
  cancelled: "#424a53",
  completed: "#1b7c83",
  neutral: "#6e7781",
  skipped: "#8c959f",
  action_required: "#bf3989",
};

const STYLE = `
:root { color-scheme: light dark; --idle: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem; }
h1 { font-size: 1.3rem; margin: 0; } .hint, .meta, .empty, .reason { color: var(--idle); font-size: .85rem; }
section { margin: 1.2rem 0; } h2 { font-size: 1rem; margin: .2rem 0 .4rem; } .repo { font-weight: 600; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
th { font-weight: 600; font-size: .8rem; color: var(--idle); }
.status { display: inline-block; border-radius: 1rem; padding: 0 .55rem; color: #fff; background: var(--idle); font-size: .8rem; white-space: nowrap; margin: 0 .15rem .15rem 0; }
${Object.entries(STYLE_CLASSES)
  .map(([name, colour]) => `.status.${name} { background: ${colour}; }`)
  .join("\n")}
.report-kind { display: inline-block; border: 1px solid var(--idle); border-radius: .3rem; padding: 0 .3rem; font-size: .75rem; font-weight: 600; text-transform: uppercase; }
.stuck-work { border: 2px solid #cf222e; border-radius: .5rem; padding: .5rem; }
.stuck-work h2 { color: #cf222e; }
.stuck-tag { display: inline-block; border: 1px solid #cf222e; color: #cf222e; border-radius: .3rem; padding: 0 .3rem; font-size: .75rem; font-weight: 600; text-transform: uppercase; }
tr.stuck td:first-child { border-left: 4px solid #cf222e; }
a { color: inherit; }
@media (max-width: 640px) {
  body { padding: .5rem; }
  table, tbody, tr, td { display: block; width: auto; }
  thead { display: none; }
  tr { border-bottom: 1px solid #8886; padding: .3rem 0; }
  td { border: 0; padding: .1rem .3rem; }
  td::before { content: attr(data-label) ": "; color: var(--idle); font-size: .8rem; }
}
`;

/** The page's Content-Security-Policy: its own style and refresh script only. */
export const DASHBOARD_CSP = pagePolicy({ style: STYLE, script: REFRESH_SCRIPT });
