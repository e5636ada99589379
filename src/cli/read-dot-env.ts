import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/**
 * The environment as `npm start` sees it: `./.env` (Probot's convention) under the real environment,
 * which wins. Blank values count as unset, as they do for the server.
 */
export function withDotEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): NodeJS.ProcessEnv {
  let file: NodeJS.ProcessEnv = {};
  try {
    file = parseEnv(readFileSync(join(cwd, ".env"), "utf8"));
  } catch {
    // no .env: the environment alone
  }
  const merged: NodeJS.ProcessEnv = { ...file, ...env };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined && value !== ""));
}
