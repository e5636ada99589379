import { expect } from "@jest/globals";
import { findUpstreamCommit } from "../../../../src/callback/nightly/find-upstream-commit";
import { RelayError } from "../../../../src/errors/failure-kinds";
import { readCommitChecks } from "../../../../src/records/nightly-reports";
import { MemoryStore } from "../../../../src/store/memory-store";

const SHA = "d".repeat(40);
const notFound = () => Object.assign(new Error("Not Found"), { status: 404, response: { headers: {} } });
const serverError = () => Object.assign(new Error("Server Error"), { status: 502, response: { headers: {} } });

/** A GitHub whose commits endpoint answers per upstream as `answers` says, recording what it was asked. */
function stubGitHub(answers: Record<string, () => unknown>) {
  const asked: { repo: string; route: string; params: Record<string, unknown> }[] = [];
  return {
    asked,
    github: {
      forRepo: async (repo: string) => ({
        request: async (route: string, params: Record<string, unknown>) => {
          asked.push({ repo, route, params });
          const answer = answers[repo]();
          if (answer instanceof Error) throw answer;
          return { data: answer };
        },
      }),
    } as never,
  };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "admitted",
    (error: unknown) => (error instanceof RelayError ? error.kind : "thrown"),
  );

describe("finding the upstream a SHA is a commit of (GitHub, cached)", () => {
  it("asks GitHub once for the SHA alone, then answers from the store", async () => {
    const store = new MemoryStore();
    const { github, asked } = stubGitHub({ "pytorch/pytorch": () => SHA });
    expect(await findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA)).toBe("pytorch/pytorch");
    expect(await findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA)).toBe("pytorch/pytorch");
    expect(asked).toEqual([
      {
        repo: "pytorch/pytorch",
        route: "GET /repos/{owner}/{repo}/commits/{ref}",
        params: expect.objectContaining({
          owner: "pytorch",
          repo: "pytorch",
          ref: SHA,
          headers: { accept: "application/vnd.github.sha" },
        }),
      },
    ]);
  });

  it("does not take a commit GitHub names differently (a ref resolved to another SHA) for this one", async () => {
    const store = new MemoryStore();
    const { github } = stubGitHub({ "pytorch/pytorch": () => "e".repeat(40) });
    expect(await failureOf(findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA))).toBe("validation-failed");
  });

  it("looks through the upstreams in order and stops at the one that holds it", async () => {
    const store = new MemoryStore();
    const { github, asked } = stubGitHub({ "a/a": notFound, "b/b": () => ({ sha: SHA }), "c/c": () => SHA });
    expect(await findUpstreamCommit({ store, github }, ["a/a", "b/b", "c/c"], SHA)).toBe("b/b");
    expect(asked.map((a) => a.repo)).toEqual(["a/a", "b/b"]);
  });

  it("remembers 'not a commit' for minutes and 'a commit' for days", async () => {
    let clock = Date.parse("2026-12-01T00:00:00Z");
    const store = new MemoryStore({ now: () => clock });
    const { github } = stubGitHub({ "a/a": notFound, "b/b": () => SHA });
    await findUpstreamCommit({ store, github }, ["a/a", "b/b"], SHA);
    expect(await readCommitChecks(store, ["a/a", "b/b"], SHA)).toEqual(["unknown", "commit"]);
    clock += 6 * 60_000;
    expect(await readCommitChecks(store, ["a/a", "b/b"], SHA)).toEqual([null, "commit"]);
    clock += 6 * 24 * 3600_000;
    expect(await readCommitChecks(store, ["b/b"], SHA)).toEqual(["commit"]);
    clock += 2 * 24 * 3600_000;
    expect(await readCommitChecks(store, ["b/b"], SHA)).toEqual([null]);
  });

  it("caches nothing and admits nothing while GitHub fails", async () => {
    const store = new MemoryStore();
    let down = true;
    const { github, asked } = stubGitHub({ "pytorch/pytorch": () => (down ? serverError() : SHA) });
    expect(await failureOf(findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA))).toBe(
      "github-egress-failed",
    );
    expect(await readCommitChecks(store, ["pytorch/pytorch"], SHA)).toEqual([null]);
    down = false;
    expect(await findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA)).toBe("pytorch/pytorch");
    expect(asked).toHaveLength(2);
  });

  it("answers the failure to get a token for the upstream, never 'not a commit'", async () => {
    const store = new MemoryStore();
    const github = {
      forRepo: async () => Promise.reject(Object.assign(new Error("Unprocessable"), { status: 422 })),
    } as never;
    expect(await failureOf(findUpstreamCommit({ store, github }, ["pytorch/pytorch"], SHA))).toBe("scope-insufficient");
    expect(await readCommitChecks(store, ["pytorch/pytorch"], SHA)).toEqual([null]);
  });
});
