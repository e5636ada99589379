import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";
import { EnvError, type EnvVars } from "./env";

/**
 * The settings of a `.env` text that apply under `env`: each variable the environment leaves unset
 * or blank (blank counts as unset, as everywhere in SPEC §1), so the environment wins. Pure.
 */
export function dotEnvOverlay(text: string, env: EnvVars): Record<string, string> {
  return Object.fromEntries(Object.entries(parse(text)).filter(([name]) => (env[name] ?? "").trim() === ""));
}

/**
 * Reads `.env` in `cwd` into `env` (SPEC §1; Probot's convention, and where its setup flow writes the
 * App's credentials) before anything reads a setting, so the relay and the Probot code it runs see
 * the same settings. Without the file nothing changes; a file that cannot be read stops the start.
 */
export function loadDotEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const path = join(cwd, ".env");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    if (code === "ENOENT") return;
    throw new EnvError([{ variable: ".env", message: `cannot read ${path} (${code})` }]);
  }
  Object.assign(env, dotEnvOverlay(text, env));
}
