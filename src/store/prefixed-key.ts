/**
 * The key as stored: REDIS_PREFIX in front, and in its hash tag too, so that `{relay:jobs}` still
 * names the prefixed stream's slot and relays with different prefixes spread over a cluster.
 */
export function prefixedKey(prefix: string, key: string): string {
  if (prefix === "") return key;
  const open = key.indexOf("{");
  return open === -1 ? prefix + key : `${prefix}${key.slice(0, open + 1)}${prefix}${key.slice(open + 1)}`;
}
