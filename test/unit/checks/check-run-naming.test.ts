import { downstreamCheckName, jobCheckName } from "../../../src/checks/check-run-names";
import { formatExternalId, parseExternalId } from "../../../src/checks/external-id";

describe("check-run names", () => {
  it("name the per-downstream check <prefix>/<owner>/<repo> in the config's spelling", () => {
    expect(downstreamCheckName("relay", "Ascend/PyTorch")).toBe("relay/Ascend/PyTorch");
  });

  it("name the per-job check <prefix>/<owner>/<repo>/<workflow>/<job>", () => {
    expect(jobCheckName("crcr", "strict/gate", "CI", "build (x86)")).toBe("crcr/strict/gate/CI/build (x86)");
  });
});

describe("external_id", () => {
  const requestId = "7f1c3c52-9a3e-4d0c-9f1d-3c7e1b2a4d5e";

  it("round-trips the per-downstream and per-job origins, job names with colons included", () => {
    for (const origin of [
      { requestId, job: null },
      { requestId, job: "build" },
      { requestId, job: "test: shard 1:2" },
    ]) {
      expect(parseExternalId(formatExternalId(origin))).toEqual(origin);
    }
  });

  it("does not claim check runs the app did not make this way", () => {
    for (const foreign of [null, undefined, "", "42", "other-app:abc", "ci-relay:"]) {
      expect(parseExternalId(foreign)).toBeNull();
    }
  });
});
