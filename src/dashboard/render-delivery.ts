import type { DeliveryDownstreamView, DeliveryView } from "./delivery-view";
import { pagePolicy } from "./page-policy";
import { escape } from "./render-dashboard";

/**
 * `GET /relay/deliveries/{id}`: one delivery's explanation as a page. Everything shown is escaped
 * (repository names, refs and errors come from outside); no scripts, nothing loaded from elsewhere.
 */
export function renderDelivery(delivery: DeliveryView): string {
  const { upstream } = delivery;
  const what = `${delivery.event}${delivery.action ? ` ${delivery.action}` : ""}`;
  const pr = upstream.pr_number === null ? "" : ` · PR #${upstream.pr_number}`;
  const eventAt = delivery.eventAt === null ? "" : ` · GitHub's event time ${delivery.eventAt}`;
  const json = `../v1/deliveries/${encodeURIComponent(delivery.deliveryId)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ci-relay delivery ${escape(delivery.deliveryId)}</title><style>${STYLE}</style></head>
<body>
<h1>Delivery ${escape(delivery.deliveryId)}</h1>
<p class="meta">${escape(what)} · ${escape(upstream.repo)} ${escape(upstream.ref)} @ <code>${escape(upstream.sha.slice(0, 12))}</code>${escape(pr)}</p>
<p class="meta">received by the relay ${escape(delivery.receivedAt)}${escape(eventAt)} · <a href="${escape(json)}">JSON</a></p>
<table><thead><tr><th>downstream</th><th>level</th><th>outcome</th><th>why</th><th>dispatch</th></tr></thead><tbody>
${delivery.downstreams.map(renderDownstream).join("\n")}
</tbody></table>
</body></html>
`;
}

function renderDownstream(d: DeliveryDownstreamView): string {
  const attempts = d.attempts === null ? "" : ` (${d.attempts} attempt${d.attempts === 1 ? "" : "s"})`;
  const why = [d.reason, d.detail]
    .filter((t): t is string => t !== null && t !== "")
    .map((t) => escape(t))
    .join("<br>");
  const outcome = `<span class="outcome ${d.outcome}">${d.outcome}</span>${escape(attempts)}`;
  return `<tr><td>${escape(d.repo)}</td><td>${escape(d.level)}</td><td>${outcome}</td><td>${why}</td><td><code>${escape(d.dispatchId ?? "")}</code></td></tr>`;
}

// Each outcome has its own colour and always its word, so colour is never the only signal.
const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1rem; color-scheme: light dark; }
h1 { font-size: 1.2rem; } .meta { color: #6e7781; } table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8883; vertical-align: top; }
.outcome { border-radius: 1rem; padding: 0 .5rem; color: #fff; font-size: .8rem; }
.dispatched { background: #1a7f37; } .queued { background: #0969da; } .retrying { background: #9a6700; }
.failed { background: #cf222e; } .skipped { background: #6e7781; } .superseded { background: #953800; }
`;

/** The page's Content-Security-Policy: its own style only (it has no script). */
export const DELIVERY_CSP = pagePolicy({ style: STYLE });
