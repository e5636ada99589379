import { tracksCheckRuns, wantsCheckRuns } from "../../../src/checks/wants-check-runs";

const config = { labelPrefix: "ciflow/relay/" };

describe("which downstreams get check runs", () => {
  it("gives L4 check runs always, on PRs and pushes alike", () => {
    expect(wantsCheckRuns(config, { level: "L4" }, [])).toBe(true);
    expect(wantsCheckRuns(config, { level: "L4" }, ["anything"])).toBe(true);
  });

  it("gives L3 check runs only when the PR carries <label_prefix><device>", () => {
    const npu = { level: "L3" as const, device: "npu" };
    expect(wantsCheckRuns(config, npu, [])).toBe(false);
    expect(wantsCheckRuns(config, npu, ["ciflow/relay/gpu", "npu"])).toBe(false);
    expect(wantsCheckRuns(config, npu, ["ciflow/relay/npu"])).toBe(true);
  });

  it("never gives L1 or L2 check runs", () => {
    expect(wantsCheckRuns(config, { level: "L1" }, ["ciflow/relay/npu"])).toBe(false);
    expect(wantsCheckRuns(config, { level: "L2" }, ["ciflow/relay/npu"])).toBe(false);
  });

  it("keeps check-run state for L3 and L4 only", () => {
    expect((["L1", "L2", "L3", "L4"] as const).filter((level) => tracksCheckRuns({ level, action: "opened" }))).toEqual(
      ["L3", "L4"],
    );
    expect(tracksCheckRuns({ level: "L4", action: null })).toBe(true); // a push
  });

  it("keeps no check-run state for the dispatch of a closed PR, which only lets downstreams cancel", () => {
    expect(tracksCheckRuns({ level: "L4", action: "closed" })).toBe(false);
    expect(tracksCheckRuns({ level: "L3", action: "closed" })).toBe(false);
  });
});
