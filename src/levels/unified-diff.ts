/** Lines of context around each change, as `diff -u` and `git diff` use. */
const CONTEXT = 3;

type Op = { kind: " " | "-" | "+"; line: string };

/**
 * `diff -u` of two texts, for `patch -p1` or `git apply`: `---`/`+++` headers and hunks with three
 * lines of context; "" when the texts are equal. Lines keep their newline while compared, so a last
 * line without one differs from the same line with one, and is marked as `diff` marks it. Pure.
 */
export function unifiedDiff(before: string, after: string, names: { from: string; to: string }): string {
  if (before === after) return "";
  const ops = lineOps(splitLines(before), splitLines(after));
  const out = [`--- ${names.from}`, `+++ ${names.to}`];
  for (const hunk of hunks(ops)) {
    const slice = ops.slice(hunk.start, hunk.end);
    const oldCount = slice.filter((op) => op.kind !== "+").length;
    const newCount = slice.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${position(hunk.oldLine, oldCount)} +${position(hunk.newLine, newCount)} @@`);
    for (const op of slice) {
      out.push(`${op.kind}${op.line.replace(/\n$/, "")}`);
      if (!op.line.endsWith("\n")) out.push("\\ No newline at end of file");
    }
  }
  return `${out.join("\n")}\n`;
}

function splitLines(text: string): string[] {
  return text === "" ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

/** As `diff -u` writes it: an empty side names the line before it (`-0,0`), a single line no count. */
function position(firstLine: number, count: number): string {
  if (count === 0) return `${firstLine - 1},0`;
  return count === 1 ? String(firstLine) : `${firstLine},${count}`;
}

/** The edit script of a longest common subsequence of lines (config files are small: O(n·m) is fine). */
function lineOps(a: readonly string[], b: readonly string[]): Op[] {
  const common: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--)
      common[i][j] = a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i++] });
      j++;
    } else if (i < a.length && (j === b.length || common[i + 1][j] >= common[i][j + 1])) {
      // Deletions before additions where either keeps the subsequence: the order `diff -u` prints.
      ops.push({ kind: "-", line: a[i++] });
    } else {
      ops.push({ kind: "+", line: b[j++] });
    }
  }
  return ops;
}

/** Runs of changes with their context, merged when their contexts touch; 1-based first lines. */
function hunks(ops: readonly Op[]): { start: number; end: number; oldLine: number; newLine: number }[] {
  const changed = ops.flatMap((op, k) => (op.kind === " " ? [] : [k]));
  const ranges: { start: number; end: number }[] = [];
  for (const k of changed) {
    const start = Math.max(0, k - CONTEXT);
    const end = Math.min(ops.length, k + CONTEXT + 1);
    const last = ranges[ranges.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else ranges.push({ start, end });
  }
  return ranges.map(({ start, end }) => {
    const before = ops.slice(0, start);
    return {
      start,
      end,
      oldLine: before.filter((op) => op.kind !== "+").length + 1,
      newLine: before.filter((op) => op.kind !== "-").length + 1,
    };
  });
}
