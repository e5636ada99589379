import type { CliCommand } from "./cli-command";
import { EXIT, type CliIo } from "./cli-io";
import { COMMANDS } from "./commands";
import { formatCommandHelp, formatOverview } from "./format-help";

const HELP_FLAGS = new Set(["--help", "-h", "help"]);

/**
 * `npx ci-relay <command> ...`: help for the asking, otherwise the command's own run. Returns the
 * exit code; `commands` defaults to every command there is (tests may pass fewer).
 */
export async function runCli(argv: string[], io: CliIo, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.error("ci-relay: <command>: required (ci-relay --help lists them)");
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(name)) {
    const about = commands.find((command) => command.name === rest[0]);
    io.print(about ? formatCommandHelp(about) : formatOverview(commands));
    return EXIT.ok;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    io.error(`ci-relay: ${name}: unknown command, one of ${commands.map((known) => known.name).join(", ")}`);
    return EXIT.usage;
  }
  // Help wins wherever it appears, before any other option is judged.
  if (rest.some((word) => word === "--help" || word === "-h")) {
    io.print(formatCommandHelp(command));
    return EXIT.ok;
  }
  return command.run(rest, io);
}
