import { z } from "zod";

/**
 * `owner/repo` as GitHub allows it: an owner of letters, digits and hyphens (at most 39), a repository
 * of letters, digits, `.`, `_`, `-`. The config's spelling is kept; comparisons are case-insensitive.
 */
const REPO_NAME = /^[A-Za-z0-9-]{1,39}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

export const repoName = z.string().regex(REPO_NAME, { error: "must look like owner/repo" });

/** Indexes of names that repeat an earlier one, ignoring case (the first spelling is not reported). */
export function duplicateRepoIndexes(names: readonly string[]): number[] {
  const seen = new Set<string>();
  const duplicates: number[] = [];
  names.forEach((name, index) => {
    const key = name.toLowerCase();
    if (seen.has(key)) duplicates.push(index);
    seen.add(key);
  });
  return duplicates;
}
