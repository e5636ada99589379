import type { CliCommand } from "./cli-command";
import { doctorCommand } from "./doctor-command";
import { levelsCommand } from "./levels-command";
import { replayCommand } from "./replay-command";
import { brokerCommand, callbackCommand, prPreflightCommand } from "./runner-commands";
import { dlqCommand, workerCommand } from "./worker-command";

/** Every `ci-relay` command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  brokerCommand,
  prPreflightCommand,
  callbackCommand,
  workerCommand,
  dlqCommand,
  replayCommand,
  doctorCommand,
  levelsCommand,
];
