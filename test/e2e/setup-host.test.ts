import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO_ROOT = resolve(__dirname, "../..");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe("the setup flow from a copied .env.example", () => {
  it("points at http://localhost:<port>, not http://:<port>, although HOST= is blank", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ci-relay-setup-"));
    const port = await freePort();
    const example = readFileSync(join(REPO_ROOT, ".env.example"), "utf8");
    expect(example).toMatch(/^HOST=$/m);
    writeFileSync(join(dir, ".env"), example.replace(/^PORT=.*$/m, `PORT=${port}`));
    const child = spawn(process.execPath, [join(REPO_ROOT, "lib", "main.js")], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes("Listening on") && Date.now() < deadline && child.exitCode === null)
        await new Promise((done) => setTimeout(done, 100));
      expect(output).toContain(`Listening on http://localhost:${port}`);
      expect(output).toContain(`instructions at http://localhost:${port}`);
      expect(output).not.toContain("http://:");
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
