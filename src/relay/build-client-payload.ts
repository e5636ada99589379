import type { Level } from "../vocabulary/levels";

/** GitHub rejects a repository_dispatch whose client_payload JSON reaches 64 KB. */
export const CLIENT_PAYLOAD_MAX_BYTES = 65_535;

export interface RelayBlock {
  schema: "ci-relay.dispatch.v1";
  request_id: string;
  level: Level;
  upstream: { repo: string; sha: string; ref: string; pr_number: number | null };
  callback_url: string;
  callback_token: string;
}

export interface ClientPayload {
  event_type: string;
  delivery_id: string;
  payload: Record<string, unknown>;
  relay: RelayBlock;
}

const TRIM_MARKER = "…[trimmed by ci-relay]";
/** What downstream workflows read to know what to build: never dropped, only shortened inside. */
const KEPT_WHOLE = new Set([
  "action",
  "number",
  "pull_request",
  "repository",
  "ref",
  "before",
  "after",
  "installation",
]);
/** Free text that downstreams rarely need whole, in the order it is given up. */
const FREE_TEXT_FIRST: readonly [string, string][] = [
  ["pull_request", "body"],
  ["head_commit", "message"],
];

/**
 * SPEC §3: the dispatch's client_payload, with the upstream webhook trimmed so the whole JSON stays
 * under 64 KB. Trimming never fails: PR body first, then the largest strings, then the largest arrays.
 * Pure; the input payload is not modified.
 */
export function buildClientPayload(
  input: { eventType: string; deliveryId: string; payload: Record<string, unknown>; relay: RelayBlock },
  maxBytes = CLIENT_PAYLOAD_MAX_BYTES,
): ClientPayload {
  const clientPayload: ClientPayload = {
    event_type: input.eventType,
    delivery_id: input.deliveryId,
    payload: input.payload,
    relay: input.relay,
  };
  if (byteSize(clientPayload) <= maxBytes) return clientPayload;

  const payload = structuredClone(input.payload);
  payload.relay_trimmed = true;
  clientPayload.payload = payload;

  // JSON size is additive over string leaves, so the total is tracked exactly without re-serialising.
  let total = byteSize(clientPayload);
  for (const leaf of trimmableStrings(payload)) {
    if (total <= maxBytes) return clientPayload;
    total += shortenLeaf(leaf, total - maxBytes);
  }
  // Many small items (a push of thousands of commits): halve the largest arrays, then drop the
  // largest top-level keys. Each step re-measures, and there are O(log n) array steps.
  for (let array = largestArray(payload); array && byteSize(clientPayload) > maxBytes; array = largestArray(payload)) {
    array.splice(Math.floor(array.length / 2));
  }
  total = byteSize(clientPayload);
  const keys = Object.keys(payload)
    .filter((k) => k !== "relay_trimmed" && !KEPT_WHOLE.has(k))
    .map((k) => ({ k, bytes: byteSize(k) + byteSize(payload[k]) + 2 }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const { k, bytes } of keys) {
    if (total <= maxBytes) break;
    delete payload[k];
    total -= bytes;
  }
  return clientPayload;
}

/** Strings shorter than this are identifiers, URLs or titles: worth more whole than the bytes they free. */
const MIN_TRIMMABLE_BYTES = 256;

interface StringLeaf {
  parent: Record<string | number, unknown>;
  key: string | number;
  bytes: number;
}

/** Free-text fields first (PR body), then every other long string, largest first. */
function trimmableStrings(payload: Record<string, unknown>): StringLeaf[] {
  const leaves: StringLeaf[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string | number, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (typeof value === "string") {
        const bytes = byteSize(value);
        if (bytes >= MIN_TRIMMABLE_BYTES)
          leaves.push({ parent: record, key: Array.isArray(node) ? Number(key) : key, bytes });
      } else visit(value);
    }
  };
  visit(payload);
  const rank = (leaf: StringLeaf) =>
    FREE_TEXT_FIRST.findIndex(([p, k]) => leaf.key === k && payload[p] === leaf.parent);
  return leaves.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return (ra === -1 ? Infinity : ra) - (rb === -1 ? Infinity : rb);
    return b.bytes - a.bytes;
  });
}

/**
 * Cuts one string so its JSON shrinks by at least `excessBytes` (all of it if need be); returns the
 * change in JSON size. Bytes per character vary along a string (CJK, emoji, escaped code), so the cut
 * point is searched on the real encoded size.
 */
function shortenLeaf(leaf: StringLeaf, excessBytes: number): number {
  const value = leaf.parent[leaf.key] as string;
  const target = leaf.bytes - excessBytes;
  const encoded = (keep: number) => byteSize(value.slice(0, keep) + TRIM_MARKER);
  let [low, high] = [0, value.length - 1];
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (encoded(mid) <= target) low = mid;
    else high = mid - 1;
  }
  // Do not split a surrogate pair: a lone half would serialise as an escape of its own.
  const keep = low > 0 && /[\uD800-\uDBFF]/.test(value[low - 1]) ? low - 1 : low;
  const shortened = keep > 0 && encoded(keep) <= target ? value.slice(0, keep) + TRIM_MARKER : "";
  leaf.parent[leaf.key] = shortened;
  return byteSize(shortened) - leaf.bytes;
}

function largestArray(root: unknown): unknown[] | null {
  let best: { array: unknown[]; bytes: number } | null = null;
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node) && node.length > 0) {
      const bytes = byteSize(node);
      if (!best || bytes > best.bytes) best = { array: node, bytes };
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(root);
  return (best as { array: unknown[] } | null)?.array ?? null;
}

function byteSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}
