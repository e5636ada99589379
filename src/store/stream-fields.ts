/** Redis answers a stream entry's fields as one flat list, [field, value, field, value...]: as a map. */
export function streamFields(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}
