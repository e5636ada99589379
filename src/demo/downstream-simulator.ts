import type { DemoDispatch } from "./demo-github";
import type { DemoOidcIssuer } from "./demo-oidc-issuer";
import { failsFor } from "./demo-world";

/**
 * Plays each downstream's workflow run for a dispatch: reports `in_progress`, "runs" for a moment,
 * then reports `completed` (and the `scope: run` report that concludes the downstream's check),
 * with the OIDC token and relay token a real run would use.
 */

export interface SimulatorOptions {
  issuer: DemoOidcIssuer;
  callbackAudience: string;
  /** how long a simulated job takes */
  jobMs: number;
  log(line: string): void;
}

interface RelayBlock {
  callback_url?: string;
  callback_token?: string;
  upstream?: { pr_number?: number | null };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DownstreamSimulator {
  private runs = 0;

  constructor(private readonly options: SimulatorOptions) {}

  /** Runs the dispatch's job in the background; a failed report is logged, never thrown. */
  take(dispatch: DemoDispatch): void {
    void this.run(dispatch).catch((error: unknown) =>
      this.options.log(`simulator: ${dispatch.repo}: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private async run(dispatch: DemoDispatch): Promise<void> {
    const relay = (dispatch.clientPayload.relay ?? {}) as RelayBlock;
    if (!relay.callback_url || !relay.callback_token) return;
    const runId = 9000 + ++this.runs;
    const prNumber = relay.upstream?.pr_number ?? null;
    const conclusion = failsFor(dispatch.repo, prNumber) ? "failure" : "success";
    const report = async (workflow: Record<string, unknown>) => {
      const token = await this.options.issuer.tokenFor(dispatch.repo, this.options.callbackAudience, runId);
      const response = await fetch(relay.callback_url as string, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          relay_token: relay.callback_token,
          event_type: dispatch.clientPayload.event_type,
          delivery_id: dispatch.clientPayload.delivery_id,
          workflow: {
            schema_version: "1",
            name: "relay",
            url: `https://github.com/${dispatch.repo}/actions/runs/${runId}`,
            run_id: String(runId),
            run_attempt: "1",
            job_name: "test",
            ...workflow,
          },
        }),
      });
      if (!response.ok)
        throw new Error(`callback answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    };
    await pause(this.options.jobMs / 4);
    await report({ status: "in_progress", started_at: new Date().toISOString() });
    await pause(this.options.jobMs);
    const completed = {
      status: "completed",
      conclusion,
      completed_at: new Date().toISOString(),
      summary: conclusion === "success" ? "all 42 tests passed" : "3 of 42 tests failed",
    };
    await report({
      ...completed,
      test_results:
        conclusion === "success" ? { passed: 42, failed: 0, skipped: 0 } : { passed: 39, failed: 3, skipped: 0 },
    });
    await report({ ...completed, scope: "run" });
    this.options.log(`simulator: ${dispatch.repo} ${prNumber === null ? "push" : `PR #${prNumber}`}: ${conclusion}`);
  }
}
