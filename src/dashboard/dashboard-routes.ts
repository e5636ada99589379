/**
 * dashboard/ owns what operators read: the runs, downstreams and deliveries JSON routes and the pages
 * rendered from the same views (dispatches, job states and nightly reports, newest first), under a
 * strict page policy. It reads records; it never writes them.
 */
import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { ConfigSource } from "../config/config-source";
import type { Outbox } from "../outbox/outbox";
import type { Store } from "../store/store";
import { listDeliveries, type DeliveryView } from "./delivery-view";
import { listRuns, mergeNewestFirst, parseRunsQuery, type RunsQuery, type UpstreamRunView } from "./list-runs";
import { loadDownstreamsSummary, parseSummaryQuery } from "./load-downstreams-summary";
import { DASHBOARD_CSP, renderDashboard } from "./render-dashboard";
import { failureBody, RelayError } from "../errors/failure-kinds";
import { jsonRoute } from "../http/json-route";
import { listNightlyRuns } from "./list-nightly-runs";

/** The dashboard reads the store (and the outbox, for what is waiting) under the current config. */
export interface DashboardDeps {
  store: Store;
  outbox: Outbox;
  config: Pick<ConfigSource, "current">;
  log: Logger;
}

/** Recent dispatches and nightly/periodic reports, newest first: what the runs list and the page show. */
async function listRunsAndReports(relay: DashboardDeps, query: RunsQuery, now: number): Promise<UpstreamRunView[]> {
  const config = relay.config.current();
  const [runs, reports] = await Promise.all([
    listRuns(relay.store, query, config, now),
    listNightlyRuns(relay.store, query, config, now),
  ]);
  return mergeNewestFirst(runs, reports, query.limit);
}

/** SPEC §7 `GET /relay/v1/runs`: recent dispatches (and nightly reports), each downstream's state and why, JSON. */
export function runsRoute(relay: DashboardDeps) {
  return jsonRoute(relay.log, async ({ request }) => {
    const query = parseRunsQuery(request.query);
    return { body: { ok: true, runs: await listRunsAndReports(relay, query, Date.now()) } };
  });
}

/** SPEC §7 `GET /relay/v1/downstreams`: each configured downstream's record over `window_days` (default: `levels.window_days`), judged against its level. */
export function downstreamsRoute(relay: DashboardDeps) {
  return jsonRoute(relay.log, async ({ request }) => {
    const { windowDays } = parseSummaryQuery(request.query);
    return {
      body: {
        ok: true,
        ...(await loadDownstreamsSummary(relay.store, relay.config.current(), windowDays, Date.now())),
      },
    };
  });
}

/** How many recent deliveries the page looks through for ones that dispatched to nobody. */
const NOT_RELAYED_SCAN = 100;

/** Recent deliveries, under the page's filters, that dispatched to no downstream, newest first. */
async function listNotRelayed(relay: DashboardDeps, query: RunsQuery): Promise<DeliveryView[]> {
  const deliveries = await listDeliveries(relay.store, relay.outbox, {
    limit: NOT_RELAYED_SCAN,
    upstream: query.upstream,
    pr: query.pr,
  });
  // A PR's deliveries come oldest first; the page is newest first.
  if (query.pr !== undefined) deliveries.reverse();
  const sha = query.sha?.toLowerCase();
  return deliveries
    .filter((d) => sha === undefined || d.upstream.sha.toLowerCase().startsWith(sha))
    .filter((d) => d.downstreams.every((ds) => ds.outcome === "skipped"))
    .slice(0, query.limit);
}

/** SPEC §7 `GET /relay/`: the same data as a page. */
export function dashboardRoute(relay: DashboardDeps) {
  return async (request: Request, response: Response) => {
    // The page links relative to itself: `/relay` must become `/relay/`.
    const [path, search] = request.originalUrl.split("?", 2);
    if (!path.endsWith("/")) {
      response.redirect(301, `${path}/${search ? `?${search}` : ""}`);
      return;
    }
    try {
      const query = parseRunsQuery(request.query);
      const config = relay.config.current();
      const now = Date.now();
      const [runs, summary, notRelayed] = await Promise.all([
        listRunsAndReports(relay, query, now),
        loadDownstreamsSummary(relay.store, config, undefined, now),
        listNotRelayed(relay, query),
      ]);
      response
        .set("content-security-policy", DASHBOARD_CSP)
        .type("html")
        .send(renderDashboard(runs, query, summary, notRelayed));
    } catch (error) {
      const failure =
        error instanceof RelayError
          ? error
          : new RelayError("store-unavailable", "the dashboard could not read the store");
      if (!(error instanceof RelayError)) relay.log.error({ err: error }, "dashboard failed");
      const { status, body, headers } = failureBody(failure, "dashboard");
      response.status(status).set(headers).type("text/plain").send(`${body.failureKind}: ${body.message}\n`);
    }
  };
}
