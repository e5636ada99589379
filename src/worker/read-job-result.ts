import { readFile } from "node:fs/promises";
import { z } from "zod";
import { CHECK_CONCLUSIONS } from "../vocabulary/check-conclusions";

const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const count = z.int().nonnegative();

/**
 * What a job command may add to its completed report by writing JSON to `JOB_RESULT_FILE`: the link
 * for the check run (`url`), a markdown `summary`, test counts, an artifact link, and a `conclusion`
 * other than what its exit code says (`skipped`, `neutral`...).
 */
const jobResultSchema = z.object({
  url: httpUrl.optional(),
  summary: z
    .string()
    .max(16 * 1024)
    .optional(),
  conclusion: z.enum(CHECK_CONCLUSIONS).optional(),
  test_results: z.object({ passed: count.optional(), failed: count.optional(), skipped: count.optional() }).optional(),
  artifact_url: httpUrl.optional(),
});

export type JobResult = z.infer<typeof jobResultSchema>;

/** The result file's content; null when the command wrote none. A file that is not valid is an error. */
export async function readJobResult(path: string): Promise<JobResult | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  if (text.trim() === "") return null;
  return jobResultSchema.parse(JSON.parse(text));
}
