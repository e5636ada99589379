import { getPrivateKey } from "@probot/get-private-key";
import type { EnvVars } from "./env";

/**
 * The App's private key, found as Probot finds it (its own package does the finding): PRIVATE_KEY
 * (PEM, or base64 of one), else the file at PRIVATE_KEY_PATH, else the one .pem file in the working
 * directory; undefined when there is none. Throws when what it found cannot be read as a key.
 */
export function readAppKey(vars: EnvVars): string | undefined {
  return getPrivateKey({ env: vars }) ?? undefined;
}

/** The GitHub REST API the App talks to: api.github.com, or GHE_HOST's `/api/v3` (over GHE_PROTOCOL, default https). */
export function githubApiUrl({ gheHost, gheProtocol }: { gheHost?: string; gheProtocol?: string }): string {
  return gheHost ? `${gheProtocol || "https"}://${gheHost}/api/v3` : "https://api.github.com";
}
