import { decideNightlyReport } from "../../../../src/callback/nightly/decide-nightly-report";
import { nightlyReport } from "./nightly-fixtures";

describe("nightly report decision (SPEC §4: once per repo, sha, run, attempt, job)", () => {
  it("accepts a report nobody made yet", () => {
    expect(decideNightlyReport(null, "success")).toEqual({ outcome: "accepted" });
  });

  it("answers the same conclusion again as a duplicate, changing nothing", () => {
    const stored = nightlyReport({ conclusion: "failure" });
    expect(decideNightlyReport(stored, "failure")).toEqual({ outcome: "duplicate", record: stored });
  });

  it("refuses another conclusion for what was already reported", () => {
    const stored = nightlyReport({ conclusion: "success" });
    expect(decideNightlyReport(stored, "failure")).toEqual({
      outcome: "refused",
      reason: "conclusion-conflict",
      record: stored,
    });
  });
});
