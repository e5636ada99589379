import { WHOLE_RUN_JOB_ID, type JobRequest } from "../queue/job-request";
import type { JobResult } from "./read-job-result";
import { parseAnswerBody } from "../errors/parse-answer-body";

/** What the worker tells the relay about its job: started (`in_progress`), or done and how (`completed`). */
export interface WorkerReport {
  status: "in_progress" | "completed";
  conclusion: string | null;
  /** the stream entry, as digits: SPEC §4 run ids are numeric */
  runId: string;
  runAttempt: number;
  /** what the check run links to; null links the relay's dashboard */
  url: string | null;
  result?: JobResult;
  /** ISO-8601 */
  at: string;
}

export type ReportOutcome =
  | { outcome: "accepted" }
  /** the relay could not take it now (unreachable, 429, 5xx): leave the entry for a later delivery */
  | { outcome: "unreachable"; detail: string }
  /** the relay refused it for good (a bad or expired token, a transition it will never accept) */
  | { outcome: "rejected"; failureKind: string };

export interface PostOptions {
  fetch: typeof fetch;
  /** waits between attempts; default 0.5 s, 1 s, 2 s */
  retryDelaysMs?: number[];
  /** aborted: the worker is stopping, so no more attempts (and the one under way is cut short) */
  signal?: AbortSignal;
}

/**
 * SPEC §4 from a queue worker: the job request's callback token is both the bearer and `relay_token`.
 * The whole-downstream request reports with `scope: "run"` (the per-downstream check run); a declared
 * job reports as that job. Retries what may pass later, a few times, then says so.
 */
export async function postJobReport(
  request: JobRequest,
  report: WorkerReport,
  options: PostOptions,
): Promise<ReportOutcome> {
  const body = JSON.stringify(callbackBody(request, report));
  const delays = options.retryDelaysMs ?? [500, 1000, 2000];
  let outcome: ReportOutcome = { outcome: "unreachable", detail: "not sent" };
  for (let attempt = 0; attempt <= delays.length && !options.signal?.aborted; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, delays[attempt - 1]));
    outcome = await postOnce(request, body, options.fetch, options.signal);
    if (outcome.outcome !== "unreachable") return outcome;
  }
  return outcome;
}

export function callbackBody(request: JobRequest, report: WorkerReport): Record<string, unknown> {
  const wholeRun = request.job_id === WHOLE_RUN_JOB_ID;
  const { result } = report;
  return {
    relay_token: request.callback_token,
    event_type: request.event,
    delivery_id: request.delivery_id,
    workflow: {
      schema_version: "1",
      status: report.status,
      conclusion: report.conclusion,
      scope: wholeRun ? "run" : "job",
      name: "queue",
      url: result?.url ?? report.url,
      run_id: report.runId,
      run_attempt: String(report.runAttempt),
      job_name: wholeRun ? null : request.job_id,
      started_at: report.status === "in_progress" ? report.at : null,
      completed_at: report.status === "completed" ? report.at : null,
      ...(result?.summary !== undefined && { summary: result.summary }),
      ...(result?.test_results !== undefined && { test_results: result.test_results }),
      ...(result?.artifact_url !== undefined && { artifact_url: result.artifact_url }),
    },
  };
}

async function postOnce(
  request: JobRequest,
  body: string,
  fetcher: typeof fetch,
  stopping: AbortSignal | undefined,
): Promise<ReportOutcome> {
  const timeout = AbortSignal.timeout(30_000);
  let response: Response;
  try {
    response = await fetcher(request.callback_url, {
      method: "POST",
      headers: { authorization: `Bearer ${request.callback_token}`, "content-type": "application/json" },
      body,
      signal: stopping ? AbortSignal.any([stopping, timeout]) : timeout,
    });
  } catch (error) {
    return { outcome: "unreachable", detail: error instanceof Error ? error.message : String(error) };
  }
  return classifyReportAnswer(response.status, await response.text().catch(() => ""));
}

/** SPEC §5: the answer's own `retryable` decides; without a readable one, 429 and 5xx may pass later. Pure. */
export function classifyReportAnswer(status: number, text: string): ReportOutcome {
  const answer = parseAnswerBody(text);
  if (status >= 200 && status < 300 && answer?.ok === true) return { outcome: "accepted" };
  const retryable = typeof answer?.retryable === "boolean" ? answer.retryable : status === 429 || status >= 500;
  const kind = typeof answer?.failureKind === "string" ? answer.failureKind : `http-${status}`;
  return retryable ? { outcome: "unreachable", detail: kind } : { outcome: "rejected", failureKind: kind };
}
