import { recordJobOps, type JobRecord } from "../../src/records/jobs";
import { recordDispatchOps, type DispatchRecord } from "../../src/records/dispatches";
import { dispatchRecord } from "./dispatch-fixtures";
import type { Store } from "../../src/store/store";

/** Writes dispatch and job records the way the relay does, for dashboard tests. */
export async function seedDispatch(
  store: Store,
  record: Partial<DispatchRecord> & Pick<DispatchRecord, "requestId" | "downstream">,
  jobs: Partial<JobRecord>[] = [],
): Promise<DispatchRecord> {
  const full = dispatchRecord({
    createdAt: 1_800_000_000_000,
    dispatchedAt: 1_800_000_000_500,
    upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", prNumber: 1 },
    ...record,
  });
  await store.write(recordDispatchOps(full));
  for (const [i, job] of jobs.entries()) {
    const stored: JobRecord = {
      requestId: full.requestId,
      scope: "job",
      jobName: `job-${i}`,
      runId: "100",
      runAttempt: "1",
      state: "COMPLETED",
      conclusion: "success",
      detailsUrl: null,
      workflowName: "CI",
      inProgressAt: null,
      completedAt: null,
      queueTimeSeconds: null,
      executionTimeSeconds: null,
      updatedAt: full.createdAt + i,
      ...job,
    };
    const key = {
      requestId: full.requestId,
      runId: stored.runId,
      runAttempt: stored.runAttempt,
      scope: stored.scope,
      jobName: stored.jobName,
    };
    await store.write(recordJobOps(key, stored, stored.updatedAt));
  }
  return full;
}
