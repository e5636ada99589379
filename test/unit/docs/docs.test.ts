import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { OPERATION_NAMES } from "../../../src/broker/operations";
import { COMMANDS } from "../../../src/cli/commands";
import { formatCommandHelp } from "../../../src/cli/format-help";
import { ENV_VARIABLES } from "../../../src/config/env";
import { FAILURE_KINDS } from "../../../src/errors/failure-kinds";

const ROOT = resolve(__dirname, "../../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) =>
    statSync(join(ROOT, dir, name)).isDirectory() ? filesUnder(`${dir}/${name}`) : [`${dir}/${name}`],
  );
}

describe("the docs in the repository", () => {
  it.each(DOCS)("%s links only files that exist in the repository", (doc) => {
    const links = [...read(doc).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^(https?:|mailto:|#)/.test(target));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const target = resolve(ROOT, dirname(doc), link.split("#")[0]);
      expect({ link, inside: !relative(ROOT, target).startsWith("..") }).toEqual({ link, inside: true });
      expect({ link, exists: existsSync(target) }).toEqual({ link, exists: true });
    }
  });

  it("docs/contract.md names every setting, failure kind, broker operation and endpoint the code has", () => {
    const contract = read("docs/contract.md");
    for (const name of [...ENV_VARIABLES, ...Object.keys(FAILURE_KINDS), ...OPERATION_NAMES])
      expect({
        name,
        documented: contract.includes(`\`${name}\``) || contract.includes(`${name},`) || contract.includes(`${name}\``),
      }).toEqual({ name, documented: true });
    const routes = [...read("src/relay-router.ts").matchAll(/router\.(get|post)\("([^"]+)"/g)].map(
      (match) => `${match[1].toUpperCase()} /relay${match[2] === "/" ? "/" : match[2]}`,
    );
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) expect(contract).toContain(route);
  });

  it("docs/cli.md carries each command's --help exactly as the CLI prints it", () => {
    const cli = read("docs/cli.md");
    for (const command of COMMANDS) expect(cli).toContain(`\`\`\`text\n${formatCommandHelp(command)}\n\`\`\``);
  });

  it("every variable the CLI reads is in some command's --help, hence in docs/cli.md", () => {
    const sources = [...filesUnder("src/cli"), ...filesUnder("src/doctor")].filter((file) => file.endsWith(".ts"));
    const readByCli = sources.flatMap((file) =>
      [...read(file).matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((match) => match[1]),
    );
    expect(readByCli).toContain("CI_RELAY_URL");
    const helped = new Set(COMMANDS.flatMap((command) => Object.keys(command.environment)));
    expect([...new Set(readByCli)].filter((name) => !helped.has(name))).toEqual([]);
  });
});
