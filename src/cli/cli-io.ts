/**
 * What every `ci-relay` command gets from its process, so tests can hand in their own: machine
 * commands print JSON lines on stdout (`print`) and, when they fail, one line on stderr (`error`).
 */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  /** one line on stdout */
  print(line: string): void;
  /** one line on stderr */
  error(line: string): void;
}

/** The documented exit codes (README "CLI"): 0 done, 1 refused or failed, 2 usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Bad usage, reported in one line that starts with what is wrong: an option (`--number`), an
 * argument (`<operation>`) or a variable (`REDIS_URL`).
 */
export class UsageError extends Error {
  constructor(
    readonly subject: string,
    reason: string,
  ) {
    super(`${subject}: ${reason}`);
  }
}
