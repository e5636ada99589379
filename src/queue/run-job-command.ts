import { spawn } from "node:child_process";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the orchestrator's job command (a path, no shell: nothing from the job request is ever
 * interpreted as a command line) with the job's environment; its output goes to the worker's.
 */
export function runJobCommand(command: string, env: NodeJS.ProcessEnv): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [], { env, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}
