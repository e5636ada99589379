import type { CliIo } from "./cli-io";
import type { OptionTable } from "./option-table";

/** One `ci-relay <name>` command: what `--help` says about it, and how it runs. */
export interface CliCommand {
  name: string;
  /** one line for the overview */
  summary: string;
  /** what follows the name in the usage line besides the options, e.g. `<operation>`; may be empty */
  synopsis: string;
  /** the positional arguments, with what each may be */
  arguments?: Readonly<Record<string, string>>;
  options: OptionTable;
  /** variables the command reads, with what each means */
  environment: Readonly<Record<string, string>>;
  /** what the command prints on stdout */
  output: string;
  /** the options are not yet parsed: each command owns its own parsing */
  run(argv: string[], io: CliIo): Promise<number>;
}
