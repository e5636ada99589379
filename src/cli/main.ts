import { runWorkerCommand, WORKER_COMMANDS } from "../queue/worker-cli";
import { runCli } from "./run-cli";

/** `npx ci-relay ...` (bin/ci-relay.js). The queue worker commands talk to Redis, not to the relay's HTTP API. */
const argv = process.argv.slice(2);
const io = { env: process.env, fetch, print: (line: string) => process.stdout.write(`${line}\n`) };
const isWorkerCommand = (WORKER_COMMANDS as readonly string[]).includes(argv[0]);
(isWorkerCommand ? runWorkerCommand(argv, io) : runCli(argv, io)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ci-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
