import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { resolve } from "node:path";

const DEMO = resolve(__dirname, "../../lib/demo/main.js");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function poll<T>(
  what: string,
  probe: () => Promise<T | null>,
  timeoutMs: number,
  output: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe().catch(() => null);
    if (found !== null) return found;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${what} not seen within ${timeoutMs} ms; demo output:\n${output()}`);
}

describe("npm run demo", () => {
  let demo: ChildProcess;
  let output = "";

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((done) => demo.once("exit", done));
      demo.kill("SIGINT");
      await exited;
    }
  });

  it("prints the dashboard URL, where completed results of both outcomes appear, with nothing but loopback", async () => {
    const port = await freePort();
    const started = Date.now();
    // Only PATH and PORT: no app, no Redis, no GitHub credentials of the developer's.
    demo = spawn(process.execPath, [DEMO], {
      env: { PATH: process.env.PATH, PORT: String(port), DEMO_JOB_MS: "300" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    demo.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

    const url = await poll(
      "the dashboard URL",
      async () => /dashboard: (http:\S+)/.exec(output)?.[1] ?? null,
      60_000,
      () => output,
    );
    expect(url).toBe(`http://127.0.0.1:${port}/relay/`);

    const page = await poll(
      "a completed success and a completed failure on the dashboard",
      async () => {
        const html = await (await fetch(url)).text();
        return html.includes('data-status="success"') && html.includes('data-status="failure"') ? html : null;
      },
      60_000,
      () => output,
    );
    // Reported, not asserted: the figure the README quotes.
    process.stdout.write(`demo: both outcomes on the dashboard ${Date.now() - started} ms after start\n`);
    expect(page).toContain("demo-org/upstream");
    expect(page).toContain("demo-org/npu-ci");
    expect(page).toContain("demo-org/gpu-ci");

    const runs = (await (await fetch(`http://127.0.0.1:${port}/relay/v1/runs`)).json()) as {
      runs: { event: string }[];
    };
    expect(runs.runs.map((run) => run.event).sort()).toEqual(["pull_request", "pull_request", "push"]);
    // The relay concludes upstream check runs too (writes to GitHub are paced, so they trail the page).
    await poll(
      "a concluded upstream check run",
      async () =>
        /check run on demo-org\/upstream: relay\/demo-org\/(npu|gpu)-ci -> success/.test(output) ? true : null,
      60_000,
      () => output,
    );
    expect(output).not.toMatch(/simulator: .*answered|no answer for/);
  }, 150_000);
});
