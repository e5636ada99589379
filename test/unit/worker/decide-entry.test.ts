import { decideEntry, type EntryFacts } from "../../../src/worker/decide-entry";
import type { JobRequest } from "../../../src/queue/job-request";

const request = { runs_on: "farm-x86" } as JobRequest;
const facts = (overrides: Partial<EntryFacts> = {}): EntryFacts => ({
  request,
  deliveries: 1,
  maxDeliveries: 3,
  runsOn: undefined,
  ...overrides,
});

describe("decideEntry", () => {
  it("runs a valid request delivered up to max_deliveries times", () => {
    expect(decideEntry(facts({ deliveries: 1 }))).toEqual({ action: "run", request });
    expect(decideEntry(facts({ deliveries: 3 }))).toEqual({ action: "run", request });
  });

  it("dead-letters a request delivered more than max_deliveries times", () => {
    expect(decideEntry(facts({ deliveries: 4 }))).toEqual({ action: "dead-letter", reason: "max-deliveries-exceeded" });
  });

  it("dead-letters an entry that is not a job request", () => {
    expect(decideEntry(facts({ request: null }))).toEqual({ action: "dead-letter", reason: "invalid-entry" });
  });

  it("skips a request for another label without counting it against the job", () => {
    expect(decideEntry(facts({ runsOn: "gpu", deliveries: 9 }))).toEqual({ action: "skip" });
    expect(decideEntry(facts({ runsOn: "farm-x86" }))).toEqual({ action: "run", request });
  });
});
