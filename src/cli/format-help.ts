import type { CliCommand } from "./cli-command";
import type { OptionSpec } from "./option-table";

const EXIT_CODES = "exit codes: 0 ok, 1 refused or failed, 2 usage";

const optionWord = (name: string, spec: OptionSpec) =>
  spec.type === "string" ? `--${name} <${spec.arg ?? "value"}>` : `--${name}`;

const columns = (rows: [string, string][]) => {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
};

/** `ci-relay --help`: every command with its one-line summary. */
export function formatOverview(commands: readonly CliCommand[]): string {
  return [
    "usage: ci-relay <command> [options]   (ci-relay <command> --help for its options)",
    "",
    "commands:",
    ...columns(commands.map((command) => [command.name, command.summary])),
    "",
    EXIT_CODES,
  ].join("\n");
}

/** `ci-relay <command> --help`: its usage, every option, the variables it reads and its output. */
export function formatCommandHelp(command: CliCommand): string {
  const options = Object.entries(command.options);
  const environment = Object.entries(command.environment);
  return [
    `usage: ci-relay ${command.name}${command.synopsis ? ` ${command.synopsis}` : ""}${options.length > 0 ? " [options]" : ""}`,
    "",
    command.summary,
    ...(command.arguments ? ["", "arguments:", ...columns(Object.entries(command.arguments))] : []),
    ...(options.length > 0
      ? [
          "",
          "options:",
          ...columns(
            options.map(([name, spec]) => [
              optionWord(name, spec),
              spec.default === undefined ? spec.help : `${spec.help} (default ${spec.default})`,
            ]),
          ),
        ]
      : []),
    ...(environment.length > 0 ? ["", "environment:", ...columns(environment)] : []),
    "",
    `output: ${command.output}`,
    EXIT_CODES,
  ].join("\n");
}
