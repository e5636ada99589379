/**
 * `params.jsonFields`: keep only these top-level fields of GitHub's answer, of each item for a list.
 * Fields GitHub did not send are null, so the answer's shape is what the caller asked for.
 */
export function selectFields(data: unknown, fields: readonly string[] | undefined): unknown {
  if (fields === undefined) return data;
  if (Array.isArray(data)) return data.map((item) => selectFields(item, fields));
  if (data === null || typeof data !== "object") return data;
  const source = data as Record<string, unknown>;
  return Object.fromEntries(fields.map((field) => [field, Object.hasOwn(source, field) ? source[field] : null]));
}
