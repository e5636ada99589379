import { createHash } from "node:crypto";
import { findOperation, OPERATIONS, requestMarker } from "../../../src/broker/operations";
import { planRequest } from "../../../src/broker/plan-request";
import { selectFields } from "../../../src/broker/select-fields";

const target = { owner: "pytorch", name: "pytorch" };
const REQUEST_ID = "0b7c6f52-2f55-4b8e-9a43-3c1b7a9e8d10";

describe("broker operation table", () => {
  it("holds exactly the SPEC operations with their least permissions", () => {
    const table = Object.fromEntries(
      Object.entries(OPERATIONS).map(([name, op]) => [name, { permissions: op.permissions, writes: op.writes }]),
    );
    expect(table).toEqual({
      "github.auth.status": { permissions: { metadata: "read" }, writes: false },
      "github.issue.list": { permissions: { issues: "read" }, writes: false },
      "github.issue.read": { permissions: { issues: "read" }, writes: false },
      "github.pr.list": { permissions: { pull_requests: "read" }, writes: false },
      "github.pr.read": { permissions: { pull_requests: "read" }, writes: false },
      "github.pr.create": { permissions: { pull_requests: "write" }, writes: true },
      "github.pr.comment.create": { permissions: { issues: "write" }, writes: true },
    });
  });

  it("maps each operation to fixed calls on the target repository", () => {
    const paths = (name: keyof typeof OPERATIONS, params: Record<string, unknown>) =>
      OPERATIONS[name]
        .calls(target, OPERATIONS[name].params.parse(params), REQUEST_ID)
        .map((c) => `${c.method} ${c.path}`);
    expect(paths("github.auth.status", {})).toEqual(["GET /rate_limit", "GET /repos/pytorch/pytorch"]);
    expect(paths("github.issue.list", {})).toEqual(["GET /repos/pytorch/pytorch/issues"]);
    expect(paths("github.issue.read", { number: 59 })).toEqual(["GET /repos/pytorch/pytorch/issues/59"]);
    expect(paths("github.pr.list", { state: "all" })).toEqual(["GET /repos/pytorch/pytorch/pulls"]);
    expect(paths("github.pr.read", { number: 7 })).toEqual(["GET /repos/pytorch/pytorch/pulls/7"]);
    expect(paths("github.pr.create", { title: "t", head: "fix", base: "main" })).toEqual([
      "POST /repos/pytorch/pytorch/pulls",
    ]);
    expect(paths("github.pr.comment.create", { number: 7, body: "hi" })).toEqual([
      "POST /repos/pytorch/pytorch/issues/7/comments",
    ]);
  });

  it("marks what it writes with the requestId so a retry can find it", () => {
    const [call] = OPERATIONS["github.pr.comment.create"].calls(target, { number: 7, body: "hello" }, REQUEST_ID);
    expect(call.body).toEqual({ body: `hello\n\n${requestMarker(REQUEST_ID)}` });
  });

  it.each<[string, Record<string, unknown>]>([
    ["github.issue.read", { number: "59" }],
    ["github.issue.read", { number: 0 }],
    ["github.issue.read", { number: 1, path: "/repos/x/y/hooks" }],
    ["github.issue.read", { number: 1, jsonFields: ["../secrets"] }],
    ["github.issue.list", { url: "https://evil.example/" }],
    ["github.issue.list", { state: "everything" }],
    ["github.issue.list", { per_page: 1000 }],
    ["github.auth.status", { argv: ["--hostname", "x"] }],
    ["github.pr.create", { title: "t", head: "fix; rm -rf /", base: "main" }],
    ["github.pr.create", { title: "t", head: "../../x", base: "main" }],
    ["github.pr.create", { title: "", head: "fix", base: "main" }],
    ["github.pr.comment.create", { number: 1 }],
    ["github.pr.comment.create", { number: 1, body: "x", method: "DELETE" }],
  ])("%s refuses params %j", (name, params) => {
    expect(findOperation(name)?.params.safeParse(params).success).toBe(false);
  });

  it("finds only table entries, not inherited properties", () => {
    expect(findOperation("github.issue.read")).toBe(OPERATIONS["github.issue.read"]);
    expect(findOperation("toString")).toBeNull();
    expect(findOperation("github.repo.delete")).toBeNull();
  });
});

describe("planRequest", () => {
  it("gives the length and SHA-256 of the exact JSON a write sends", () => {
    const [call] = OPERATIONS["github.pr.comment.create"].calls(target, { number: 7, body: "héllo" }, REQUEST_ID);
    const sent = JSON.stringify(call.body);
    expect(planRequest(call)).toEqual({
      method: "POST",
      path: "/repos/pytorch/pytorch/issues/7/comments",
      bodyLength: Buffer.byteLength(sent),
      bodySha256: createHash("sha256").update(sent).digest("hex"),
    });
    expect(planRequest(call).bodyLength).toBeGreaterThan(sent.length); // bytes, not characters
  });
});

describe("selectFields", () => {
  it("keeps only the asked fields, null for missing ones, per item of a list", () => {
    const issue = { number: 1, title: "a", body: "b", user: { login: "x" } };
    expect(selectFields(issue, ["title", "state"])).toEqual({ title: "a", state: null });
    expect(selectFields([issue, { ...issue, title: "c" }], ["title"])).toEqual([{ title: "a" }, { title: "c" }]);
    expect(selectFields(issue, undefined)).toBe(issue);
  });
});
