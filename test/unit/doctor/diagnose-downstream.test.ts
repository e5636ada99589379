import { expect } from "@jest/globals";
import { diagnoseDownstream } from "../../../src/doctor/diagnose-downstream";
import { inspectWorkflow } from "../../../src/doctor/inspect-workflow";
import { downstream } from "../../support/relay-config";

const installed = { id: 1, permissions: { contents: "write", metadata: "read" } };
const reporting = (types: string, extra = "") =>
  inspectWorkflow(
    ".github/workflows/relay.yml",
    `on: { repository_dispatch: { types: ${types} } }\npermissions: { id-token: write }\njobs:\n  t:\n    steps:\n      - uses: o/ci-relay/action@${"a".repeat(40)}\n        with: { status: completed${extra} }\n`,
  );
const problems = (findings: ReturnType<typeof diagnoseDownstream>) =>
  findings.filter((finding) => !finding.ok).map((finding) => finding.check);

describe("diagnoseDownstream", () => {
  it("a queue downstream needs neither an installation nor a workflow", () => {
    const findings = diagnoseDownstream({
      repo: "farm/ci",
      downstream: downstream({ repo: "farm/ci", transport: "queue" }),
      installation: null,
      workflows: null,
    });
    expect(findings.map((finding) => [finding.check, finding.ok])).toEqual([
      ["config", true],
      ["workflow", true],
    ]);
  });

  it("an L1 downstream needs no callback step", () => {
    const quiet = inspectWorkflow("w.yml", "on: repository_dispatch\njobs: { t: { steps: [{ run: make }] } }\n");
    const findings = diagnoseDownstream({
      repo: "q/o",
      downstream: downstream({ repo: "q/o", level: "L1" }),
      installation: installed,
      workflows: [quiet],
    });
    expect(problems(findings)).toEqual([]);
    expect(findings.at(-1)).toMatchObject({ check: "action", ok: true });
  });

  it("only the event types the config sends to the downstream are required", () => {
    const prOnly = downstream({ repo: "v/b", events: ["pull_request"] });
    expect(
      problems(
        diagnoseDownstream({
          repo: "v/b",
          downstream: prOnly,
          installation: installed,
          workflows: [reporting("[pull_request]")],
        }),
      ),
    ).toEqual([]);
    expect(
      problems(
        diagnoseDownstream({
          repo: "v/b",
          downstream: downstream({ repo: "v/b" }),
          installation: installed,
          workflows: [reporting("[pull_request]")],
        }),
      ),
    ).toEqual(["event-types"]);
  });

  it("an L4 downstream must report scope: run", () => {
    const l4 = downstream({ repo: "s/g", level: "L4" });
    expect(
      problems(
        diagnoseDownstream({
          repo: "s/g",
          downstream: l4,
          installation: installed,
          workflows: [reporting("[pull_request, push]")],
        }),
      ),
    ).toEqual(["run-scope"]);
    expect(
      problems(
        diagnoseDownstream({
          repo: "s/g",
          downstream: l4,
          installation: installed,
          workflows: [reporting("[pull_request, push]", ", scope: run")],
        }),
      ),
    ).toEqual([]);
  });

  it("workflows that cannot be listed are a problem with a fix, not a crash", () => {
    const findings = diagnoseDownstream({
      repo: "v/b",
      downstream: downstream({ repo: "v/b" }),
      installation: installed,
      workflows: null,
    });
    expect(findings.at(-1)).toMatchObject({ check: "workflow", ok: false, fix: expect.any(String) });
  });
});
