import { DLQ_OPTIONS, QUEUE_ENV, runWorkerCommand, WORKER_OPTIONS } from "./worker-command";
import type { CliCommand } from "./cli-command";
import { doctorCommand } from "./doctor-command";
import { replayCommand } from "./replay-command";
import { brokerCommand, callbackCommand, prPreflightCommand } from "./runner-commands";

const workerCommand: CliCommand = {
  name: "worker",
  summary: "take job requests from the relay's Redis queue and run --exec for each (transport: queue)",
  synopsis: "--exec ./run-job.sh",
  options: WORKER_OPTIONS,
  environment: QUEUE_ENV,
  output: "JSON log lines; runs until SIGTERM or SIGINT",
  run: (argv, io) => runWorkerCommand(["worker", ...argv], io),
};

const dlqCommand: CliCommand = {
  name: "dlq",
  summary: "list the queue's dead letters, or requeue one",
  synopsis: "list | requeue <id>",
  options: DLQ_OPTIONS,
  environment: QUEUE_ENV,
  output: "list: one JSON line per dead letter, oldest first; requeue: one JSON line",
  run: (argv, io) => runWorkerCommand(["dlq", ...argv], io),
};

/** Every `ci-relay` command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [brokerCommand, prPreflightCommand, callbackCommand, workerCommand, dlqCommand, replayCommand, doctorCommand];
