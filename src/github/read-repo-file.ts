import type { GithubFile } from "../config/config-location";
import type { AppGitHub } from "./app-github";

/** Reads a file through the Contents API with a contents:read token for that one repository. */
export function readRepoFile(github: AppGitHub) {
  return async ({ owner, repo, path, ref }: GithubFile): Promise<string> => {
    const octokit = await github.forRepo(`${owner}/${repo}`, { contents: "read" });
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path,
      ...(ref ? { ref } : {}),
      // ConfigSource retries with its own backoff; Octokit's retries would make one failing read last ~15 s.
      request: { retries: 0 },
    });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) {
      throw new Error(`${owner}/${repo}/${path} is not a file`);
    }
    return Buffer.from(data.content, "base64").toString("utf8");
  };
}
