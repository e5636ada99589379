import { jobId } from "../../../src/records/jobs";
import { jobKey } from "../../support/dispatch-fixtures";

describe("job keys", () => {
  test("job names containing the separator cannot collide with other keys", () => {
    const a = jobId(jobKey({ runId: "1", jobName: "2:x" }));
    const b = jobId(jobKey({ runId: "1:2", jobName: "x" }));
    expect(a).not.toBe(b);
  });

  test("every run-scope report of an attempt shares one key, distinct from any job's", () => {
    expect(jobId(jobKey({ scope: "run", jobName: null }))).toBe(jobId(jobKey({ scope: "run", jobName: "whatever" })));
    expect(jobId(jobKey({ scope: "run", jobName: null }))).not.toBe(
      jobId(jobKey({ scope: "job", jobName: "__run__" })),
    );
  });
});
