import {
  isFailing,
  ONCALL_COMMENT_MARKER,
  renderOncallComment,
  type OncallRow,
} from "../../../../src/checks/oncall/render-oncall-comment";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DASHBOARD = "http://relay.test/relay/?upstream=pytorch%2Fpytorch&pr=7";

const row = (overrides: Partial<OncallRow> = {}): OncallRow => ({
  downstream: "strict/gate",
  oncalls: ["alice", "bob"],
  status: "completed",
  conclusion: "failure",
  url: "https://github.com/strict/gate/actions/runs/1",
  ...overrides,
});

const render = (rows: OncallRow[]) => renderOncallComment({ sha: SHA, rows, dashboardUrl: DASHBOARD });
const tableRows = (body: string) =>
  body
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| downstream") && !line.startsWith("| ---"));

describe("the oncall comment", () => {
  test("starts with the relay's hidden marker and names the head commit", () => {
    const body = render([row()]);
    expect(body.startsWith(`${ONCALL_COMMENT_MARKER}\n`)).toBe(true);
    expect(body).toContain(SHA.slice(0, 10));
    expect(body).toContain(`([dashboard](${DASHBOARD}))`);
  });

  test("a failing downstream is named with its conclusion, its run and its oncalls as mentions", () => {
    expect(tableRows(render([row()]))).toEqual([
      "| strict/gate | **failure** · [run](https://github.com/strict/gate/actions/runs/1) | @alice @bob |",
    ]);
    expect(tableRows(render([row({ conclusion: "timed_out" })]))).toEqual([
      "| strict/gate | **timed out** · [run](https://github.com/strict/gate/actions/runs/1) | @alice @bob |",
    ]);
  });

  test("a passing or unfinished downstream is listed without pinging anyone", () => {
    const body = render([
      row({ downstream: "a/ok", conclusion: "success" }),
      row({ downstream: "a/busy", status: "in_progress", conclusion: null }),
    ]);
    expect(tableRows(body)).toEqual([
      "| a/ok | success · [run](https://github.com/strict/gate/actions/runs/1) |  |",
      "| a/busy | in progress · [run](https://github.com/strict/gate/actions/runs/1) |  |",
    ]);
    expect(body).not.toContain("@");
  });

  test("only failure and timed_out ask for the oncalls", () => {
    expect(isFailing(row())).toBe(true);
    expect(isFailing(row({ conclusion: "timed_out" }))).toBe(true);
    for (const conclusion of ["success", "cancelled", "neutral", "skipped", "action_required"] as const)
      expect(isFailing(row({ conclusion }))).toBe(false);
    expect(isFailing(row({ status: "in_progress", conclusion: null }))).toBe(false);
  });

  test("a run URL a downstream reported cannot end its link, break the table or mention anyone", () => {
    const [line] = tableRows(
      render([row({ oncalls: [], url: "https://evil.test/x) @everyone | [click](javascript:alert(1)" })]),
    );
    expect(line).toBe(
      "| strict/gate | **failure** · [run](https://evil.test/x%29%20@everyone%20%7C%20%5Bclick%5D%28javascript:alert%281%29) |  |",
    );
    expect(line.split("|")).toHaveLength(5);
  });

  test("a run URL that is not http(s) is left out", () => {
    expect(tableRows(render([row({ oncalls: [], url: "javascript:alert(1)" })]))).toEqual([
      "| strict/gate | **failure** |  |",
    ]);
  });

  test("an oncall written with its @, or as a team, is mentioned once; anything else is inert text", () => {
    const [line] = tableRows(render([row({ oncalls: ["@carol", "pytorch/npu-team", "dave | @eve <b>"] })]));
    expect(line).toBe(
      "| strict/gate | **failure** · [run](https://github.com/strict/gate/actions/runs/1) | @carol @pytorch/npu-team dave &#124; &#64;eve &#60;b&#62; |",
    );
  });
});
