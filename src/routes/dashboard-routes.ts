import type { Request, Response } from "express";
import type { Relay } from "../create-relay";
import { listRuns, parseRunsQuery } from "../dashboard/list-runs";
import { renderDashboard } from "../dashboard/render-dashboard";
import { failureBody, RelayError } from "../http/failure-kinds";
import { jsonRoute } from "../http/json-route";

/** SPEC §7 `GET /relay/v1/runs`: recent dispatches and their downstream results, JSON. */
export function runsRoute(relay: Relay) {
  return jsonRoute(relay.log, async ({ request }) => {
    const query = parseRunsQuery(request.query);
    return { body: { ok: true, runs: await listRuns(relay.store, query) } };
  });
}

/** The page has no scripts and loads nothing from elsewhere; the policy says so to the browser. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** SPEC §7 `GET /relay/`: the same data as a page. */
export function dashboardRoute(relay: Relay) {
  return async (request: Request, response: Response) => {
    // The page links relative to itself: `/relay` must become `/relay/`.
    const [path, search] = request.originalUrl.split("?", 2);
    if (!path.endsWith("/")) {
      response.redirect(301, `${path}/${search ? `?${search}` : ""}`);
      return;
    }
    try {
      const query = parseRunsQuery(request.query);
      const html = renderDashboard(await listRuns(relay.store, query), query);
      response.set("content-security-policy", CONTENT_SECURITY_POLICY).type("html").send(html);
    } catch (error) {
      const failure = error instanceof RelayError ? error : new RelayError("store-unavailable", "the dashboard could not read the store");
      if (!(error instanceof RelayError)) relay.log.error({ err: error }, "dashboard failed");
      const { status, body, headers } = failureBody(failure, "dashboard");
      response.status(status).set(headers).type("text/plain").send(`${body.failureKind}: ${body.message}\n`);
    }
  };
}
