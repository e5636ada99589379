// Bundles each Lambda handler into one minified file (dist/lambda/<name>.js + source map), so a
// cold start reads one file instead of resolving thousands of modules in node_modules.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const HANDLERS = ["webhook", "http", "scheduled"];
const outdir = `${root}dist/lambda`;

const result = await build({
  absWorkingDir: root,
  entryPoints: HANDLERS.map((name) => ({ in: `src/lambda/${name}.ts`, out: name })),
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: true,
  // Module names stay readable in stack traces (Probot and pino log them); costs a few KB.
  keepNames: true,
  metafile: true,
  logLevel: "warning",
});
for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith(".js")) console.log(`${file.replace(`${root}`, "")}  ${(bytes / 1024).toFixed(0)} KiB`);
}
