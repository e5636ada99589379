import { resolve } from "node:path";

/** A file in a GitHub repository; no `ref` means the repository's default branch. */
export interface GithubFile {
  owner: string;
  repo: string;
  path: string;
  ref?: string;
}

/** Where the relay config lives (SPEC §1), and which setting said so. */
export type ConfigLocation =
  | { kind: "local"; path: string; display: string; via: "RELAY_CONFIG" | "default" }
  | { kind: "github"; file: GithubFile; display: string; via: "RELAY_CONFIG" | "ALLOWLIST_URL" };

const GITHUB_PREFIX = "github:";

/** What a malformed RELAY_CONFIG / ALLOWLIST_URL is told; shared with the env check. */
export const LOCATION_FORMAT = {
  RELAY_CONFIG: "must be a local path or github:OWNER/REPO/PATH[@REF]",
  ALLOWLIST_URL: "must be a GitHub blob URL like https://github.com/OWNER/REPO/blob/REF/PATH",
} as const;
const OWNER = /^[A-Za-z0-9-]{1,39}$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

function githubFile(owner: string, repo: string, path: string, ref: string | undefined): GithubFile | null {
  if (!OWNER.test(owner) || !REPO.test(repo) || path === "" || path.split("/").includes("..") || ref === "")
    return null;
  return { owner, repo, path, ...(ref !== undefined && { ref }) };
}

export function isGithubConfigRef(value: string): boolean {
  return value.startsWith(GITHUB_PREFIX);
}

/** `github:OWNER/REPO/PATH[@REF]`; null when malformed. */
export function parseGithubConfigRef(value: string): GithubFile | null {
  if (!isGithubConfigRef(value)) return null;
  const spec = value.slice(GITHUB_PREFIX.length);
  const [owner = "", repo = "", ...rest] = spec.split("/");
  const location = rest.join("/");
  const at = location.lastIndexOf("@");
  return at === -1
    ? githubFile(owner, repo, location, undefined)
    : githubFile(owner, repo, location.slice(0, at), location.slice(at + 1));
}

/** `https://<github host>/OWNER/REPO/blob/REF/PATH` (CRCR's ALLOWLIST_URL); null when malformed. */
export function parseBlobUrl(value: string): GithubFile | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const [owner = "", repo = "", blob, ref, ...path] = url.pathname.split("/").slice(1).map(decodeURIComponent);
  if (blob !== "blob" || ref === undefined) return null;
  return githubFile(owner, repo, path.join("/"), ref);
}

function describeGithubFile({ owner, repo, path, ref }: GithubFile): string {
  return `${GITHUB_PREFIX}${owner}/${repo}/${path}${ref === undefined ? "" : `@${ref}`}`;
}

function githubLocation(file: GithubFile, via: "RELAY_CONFIG" | "ALLOWLIST_URL"): ConfigLocation {
  return { kind: "github", file, display: describeGithubFile(file), via };
}

/**
 * SPEC §1 precedence: RELAY_CONFIG, else ALLOWLIST_URL, else ./relay.yml in `cwd`. Values are expected to
 * have passed `loadEnv`; a malformed one still fails here rather than being read as a local path.
 */
export function resolveConfigLocation(
  env: { relayConfig?: string; allowlistUrl?: string },
  cwd: string,
): ConfigLocation {
  if (env.relayConfig !== undefined) {
    if (!isGithubConfigRef(env.relayConfig)) {
      return { kind: "local", path: resolve(cwd, env.relayConfig), display: env.relayConfig, via: "RELAY_CONFIG" };
    }
    const file = parseGithubConfigRef(env.relayConfig);
    if (file === null) throw new Error(`RELAY_CONFIG: ${LOCATION_FORMAT.RELAY_CONFIG}`);
    return githubLocation(file, "RELAY_CONFIG");
  }
  if (env.allowlistUrl !== undefined) {
    const file = parseBlobUrl(env.allowlistUrl);
    if (file === null) throw new Error(`ALLOWLIST_URL: ${LOCATION_FORMAT.ALLOWLIST_URL}`);
    return githubLocation(file, "ALLOWLIST_URL");
  }
  return { kind: "local", path: resolve(cwd, "relay.yml"), display: "./relay.yml", via: "default" };
}
