import { spawn } from "node:child_process";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the orchestrator's job command (a path, no shell: nothing from the job request is ever
 * interpreted as a command line) with the job's environment; its output goes to the worker's.
 * An aborted `signal` terminates it (SIGTERM), as a worker that is stopping does.
 */
export function runJobCommand(command: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [], { env, stdio: ["ignore", "inherit", "inherit"], signal });
    // An abort also surfaces as an "error" (AbortError); the "exit" that follows says how it ended.
    child.once("error", (error) => {
      if (!signal?.aborted) reject(error);
    });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}
