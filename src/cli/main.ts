/**
 * cli/ owns every `npx ci-relay` command: one table (commands.ts) that parses options and prints
 * --help, the runner commands (broker, pr-preflight, callback), replay, doctor, and worker/dlq. A
 * command here parses and prints; what it runs lives in its domain folder (doctor/, worker/, broker/).
 */
import { EXIT } from "./cli-io";
import { runCli } from "./run-cli";

/** `npx ci-relay ...` (bin/ci-relay.js). */
const io = {
  env: process.env,
  fetch,
  print: (line: string) => process.stdout.write(`${line}\n`),
  error: (line: string) => process.stderr.write(`${line}\n`),
};
runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ci-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
