import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { crcrAllowlistSchema, crcrToRelayConfig, isCrcrAllowlist } from "./crcr-allowlist";
import { nativeConfigSchema, nativeToRelayConfig } from "./native-config";
import type { RelayConfig } from "./types";

type Path = readonly PropertyKey[];

export interface ConfigProblem {
  /** 1-based; absent when the problem is not about one place in the file */
  line?: number;
  col?: number;
  /** `downstreams[0].level`; empty for the whole file */
  path: string;
  message: string;
}

/** A relay config that cannot be used; one line per problem, each naming the source and the file position. */
export class RelayConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((problem) => formatProblem(source, problem)).join("\n"));
    this.name = "RelayConfigError";
  }
}

function formatProblem(source: string, { line, col, path, message }: ConfigProblem): string {
  const where = line === undefined ? source : `${source}:${line}:${col}`;
  return path === "" ? `${where}: ${message}` : `${where}: ${path}: ${message}`;
}

function formatPath(path: Path): string {
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      const key = String(segment);
      if (!/^[A-Za-z_][\w-]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return index === 0 ? key : `.${key}`;
    })
    .join("");
}

/**
 * Offset of the deepest node on `path` that exists: the key of a map entry, the start of a list item. A
 * missing key therefore points at the entry that lacks it.
 */
function offsetOf(document: Document.Parsed, path: Path): number {
  let node: unknown = document.contents;
  let offset = document.contents?.range[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined || !isScalar(pair.key)) break;
      offset = pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (!isMap(item) && !isSeq(item) && !isScalar(item)) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

interface PathIssue {
  path: Path;
  message: string;
}

/**
 * Zod issues as one message per offending key. A union (an allowlist entry: a name or a map) reports the
 * errors of the one branch whose shape the value has, which says more than "matches no option".
 */
function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: Path = []): PathIssue[] {
  return issues.flatMap((issue): PathIssue[] => {
    const path = [...prefix, ...issue.path];
    switch (issue.code) {
      case "unrecognized_keys":
        return issue.keys.map((key) => ({ path: [...path, key], message: "unknown key" }));
      case "invalid_union": {
        const shaped = issue.errors.filter(
          (branch) => !branch.some((e) => e.code === "invalid_type" && e.path.length === 0),
        );
        return shaped.length === 1 ? flattenIssues(shaped[0], path) : [{ path, message: issue.message }];
      }
      case "invalid_key":
        return [{ path, message: `key ${issue.issues[0]?.message ?? issue.message}` }];
      default:
        return [{ path, message: issue.message }];
    }
  });
}

function problemsFromIssues(document: Document.Parsed, lineCounter: LineCounter, issues: readonly z.core.$ZodIssue[]) {
  return flattenIssues(issues)
    .map(({ path, message }) => ({ offset: offsetOf(document, path), path: formatPath(path), message }))
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, path, message }): ConfigProblem => ({ ...lineCounter.linePos(offset), path, message }));
}

/**
 * Parses and validates a relay config in either form (SPEC §2) into the normalised shape. `source` names
 * the file in errors; `upstreamRepo` (UPSTREAM_REPO) is the upstream of a CRCR allowlist and required for it.
 */
export function parseRelayConfig(text: string, opts: { upstreamRepo?: string; source: string }): RelayConfig {
  const { source } = opts;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    throw new RelayConfigError(
      source,
      document.errors.map((error) => ({
        line: error.linePos?.[0].line,
        col: error.linePos?.[0].col,
        path: "",
        message: `YAML: ${error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
      })),
    );
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    throw new RelayConfigError(source, [{ path: "", message: `YAML: ${(error as Error).message}` }]);
  }
  if (value === null || value === undefined) {
    throw new RelayConfigError(source, [{ path: "", message: "the file is empty" }]);
  }

  if (isCrcrAllowlist(value)) {
    if (opts.upstreamRepo === undefined) {
      throw new RelayConfigError(source, [
        { path: "", message: "a CRCR allowlist (top-level L1..L4) needs UPSTREAM_REPO to name the upstream" },
      ]);
    }
    const parsed = crcrAllowlistSchema.safeParse(value);
    if (!parsed.success)
      throw new RelayConfigError(source, problemsFromIssues(document, lineCounter, parsed.error.issues));
    return crcrToRelayConfig(parsed.data, opts.upstreamRepo);
  }
  const parsed = nativeConfigSchema.safeParse(value);
  if (!parsed.success)
    throw new RelayConfigError(source, problemsFromIssues(document, lineCounter, parsed.error.issues));
  return nativeToRelayConfig(parsed.data);
}
