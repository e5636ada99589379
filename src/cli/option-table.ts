import { parseArgs } from "node:util";
import { UsageError } from "./cli-io";

/**
 * One command's options: what `parseArgs` reads and what `--help` prints come from the same table,
 * so the help cannot list an option the parser refuses or miss one it takes.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  /** what the help shows as the value, e.g. `o/r`; string options only */
  arg?: string;
  help: string;
  /** the parser's default, shown in the help */
  default?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

export type ParsedArgs<T extends OptionTable> = ReturnType<
  typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>
>;

/** `parseArgs`, with its refusals turned into one-line usage errors naming the option. */
export function parseCommandArgs<T extends OptionTable>(command: string, argv: string[], options: T): ParsedArgs<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw error;
    // Node names the option in quotes: "Unknown option '--path'", "Option '--repo <value>' argument missing".
    const flag = /'(-{1,2}[^' ]+)/.exec((error as Error).message)?.[1] ?? command;
    const reason =
      code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? `unknown option for ${command} (ci-relay ${command} --help lists them)`
        : code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
          ? "needs a value"
          : "unexpected";
    throw new UsageError(flag, reason);
  }
}
