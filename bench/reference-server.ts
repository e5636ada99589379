import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { testAppCredentials } from "../test/support/app-key";
import { freePort } from "../test/support/server-harness";
import { TEST_WEBHOOK_SECRET } from "../test/support/webhooks";

export interface ReferenceServer {
  readonly pid: number;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** Starts one of the bench's reference servers (bundled next to run.js) and waits for its "ready". */
export async function startReferenceServer(name: "ceiling-server" | "noop-probot-server"): Promise<ReferenceServer> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    APP_ID: "1",
    PRIVATE_KEY: testAppCredentials().privateKeyPem,
    NODE_ENV: "production",
  };
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, `${name}.js`)], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((ready, fail) => {
    child.once("exit", (code) => fail(new Error(`${name} exited (${code}) before it was ready`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) ready();
    });
  });
  return {
    pid: child.pid ?? -1,
    baseUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
