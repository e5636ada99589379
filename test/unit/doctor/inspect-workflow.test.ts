import { inspectWorkflow } from "../../../src/doctor/inspect-workflow";

const steps = `
    steps:
      - uses: o/ci-relay/action@v1
        with: { status: completed, scope: run }`;

describe("inspectWorkflow", () => {
  it.each([
    ["on: repository_dispatch", null],
    ["on: [push, repository_dispatch]", null],
    ["on: { repository_dispatch: {} }", null],
    ["on: { repository_dispatch: { types: pull_request } }", ["pull_request"]],
    ["on:\n  repository_dispatch:\n    types: [pull_request, push]", ["pull_request", "push"]],
  ])("reads the dispatch trigger of %j", (on, types) => {
    const facts = inspectWorkflow("w.yml", `${on}\njobs: {}\n`);
    expect(facts).toMatchObject({ valid: true, listensToDispatch: true, dispatchTypes: types });
  });

  it("a workflow without repository_dispatch, and text that is not a workflow", () => {
    expect(inspectWorkflow("w.yml", "on: push\njobs: {}\n").listensToDispatch).toBe(false);
    expect(inspectWorkflow("w.yml", "just: [text").valid).toBe(false);
    expect(inspectWorkflow("w.yml", "name: no trigger").valid).toBe(false);
  });

  it("a job's own permissions replace the workflow's for id-token", () => {
    const workflowLevel = inspectWorkflow(
      "w.yml",
      `on: repository_dispatch\npermissions: { id-token: write }\njobs:\n  a:${steps}\n`,
    );
    expect(workflowLevel).toMatchObject({
      idTokenWrite: true,
      actionRefs: ["o/ci-relay/action@v1"],
      reportsRunScope: true,
    });
    const overridden = inspectWorkflow(
      "w.yml",
      `on: repository_dispatch\npermissions: { id-token: write }\njobs:\n  a:\n    permissions: { contents: read }${steps}\n`,
    );
    expect(overridden.idTokenWrite).toBe(false);
    const jobLevel = inspectWorkflow(
      "w.yml",
      `on: repository_dispatch\njobs:\n  a:\n    permissions: write-all${steps}\n`,
    );
    expect(jobLevel.idTokenWrite).toBe(true);
  });

  it("recognises CRCR's callback action and ignores other actions", () => {
    const facts = inspectWorkflow(
      "w.yml",
      `on: repository_dispatch\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: pytorch/test-infra/.github/actions/cross-repo-ci-relay-callback@main\n`,
    );
    expect(facts.actionRefs).toEqual(["pytorch/test-infra/.github/actions/cross-repo-ci-relay-callback@main"]);
  });
});
