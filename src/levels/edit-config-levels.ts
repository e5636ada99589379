import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from "yaml";
import { sameRepo } from "../config/types";
import type { Level } from "../vocabulary/levels";

interface Edit {
  start: number;
  end: number;
  text: string;
}

type Range = [number, number, number];

/**
 * A native-form config text with the given downstreams moved to new levels: each one's `level:` value
 * replaced in place and, when it leaves L3, its `device:` (L3 only) taken out, so everything else in
 * the file (comments, order, quoting, flow or block style) stays byte for byte as it was. Moves to L3
 * are not taken (a device cannot be guessed). Pure; throws when a downstream is not in the file.
 */
export function editConfigLevels(text: string, moves: readonly { repo: string; to: Exclude<Level, "L3"> }[]): string {
  const document = parseDocument(text);
  const downstreams = document.get("downstreams", true);
  const items = isSeq(downstreams) ? downstreams.items.filter(isMap) : [];
  const edits = moves.flatMap(({ repo, to }): Edit[] => {
    const entry = items.find((item) => sameRepo(String(item.get("repo")), repo));
    if (!entry) throw new Error(`${repo} is not a downstream of this file`);
    const level = entry.items.find((pair) => keyIs(pair, "level"));
    if (!level || !isScalar(level.value) || !level.value.range) throw new Error(`${repo} has no level in this file`);
    const [start, end] = level.value.range;
    const device = entry.items.findIndex((pair) => keyIs(pair, "device"));
    return [{ start, end, text: to }, ...(device === -1 ? [] : [removal(text, entry, device)])];
  });
  return edits
    .sort((a, b) => b.start - a.start)
    .reduce(
      (result, { start, end, text: replacement }) => result.slice(0, start) + replacement + result.slice(end),
      text,
    );
}

function keyIs(pair: Pair, name: string): boolean {
  return isScalar(pair.key) && pair.key.value === name;
}

/** The text of one pair of a map, with what joins it to its neighbours, so the rest reads as before. */
function removal(text: string, map: YAMLMap, index: number): Edit {
  const keyStart = rangeOf(map.items[index].key)[0];
  const valueEnd = rangeOf(map.items[index].value)[1];
  const next = map.items[index + 1];
  // The first pair ("- device: npu", "{device: npu, ..."): up to the next key, which takes its place.
  if (index === 0) return { start: keyStart, end: next ? rangeOf(next.key)[0] : valueEnd, text: "" };
  // A flow map ("..., device: npu"): from the end of the value before it.
  if (map.flow) return { start: rangeOf(map.items[index - 1].value)[1], end: valueEnd, text: "" };
  // A block map: its whole lines, a comment after it included.
  const lineStart = text.lastIndexOf("\n", keyStart) + 1;
  const lineEnd = text.indexOf("\n", valueEnd);
  return { start: lineStart, end: lineEnd === -1 ? text.length : lineEnd + 1, text: "" };
}

function rangeOf(node: unknown): Range {
  const range = (node as { range?: Range | null } | null)?.range;
  if (!range) throw new Error("a config node without a source position");
  return range;
}
