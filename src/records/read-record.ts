import type { z } from "zod";

/**
 * A stored value that is not the record its key should hold (not JSON, or not of its schema): a
 * bug or a foreign writer. Raised on read so it surfaces as a clear failure of the one step that
 * read it, never as a crash deep in whatever used the value.
 */
export class CorruptRecordError extends Error {
  constructor(
    readonly family: string,
    detail: string,
  ) {
    super(`stored ${family} record is corrupt: ${detail}`);
    this.name = "CorruptRecordError";
  }
}

/** The record in `raw`, validated by `schema`; null when absent; CorruptRecordError otherwise. */
export function readRecord<T>(family: string, schema: z.ZodType<T>, raw: string | null): T | null {
  if (raw === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new CorruptRecordError(family, "not JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new CorruptRecordError(
      family,
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "(record)"}: ${issue.message}`).join("; "),
    );
  return parsed.data;
}
