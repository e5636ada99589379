/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for asserting on
 * `/relay/metrics`: every line must be a `# HELP`, a `# TYPE` or a sample of a family declared by
 * both before it, with valid names, properly escaped label values, a numeric value and no series
 * twice. Anything else throws, naming the line.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  help: string;
  type: string;
}

export interface Exposition {
  families: Map<string, MetricFamily>;
  samples: Sample[];
  /** the value of the one sample with this name and exactly these labels, or undefined */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** every sample of `name` whose labels include `labels` */
  select(name: string, labels?: Record<string, string>): Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count", ""],
};

/** Go's ParseFloat, which Prometheus reads values with: NaN and Inf in any case. */
function parseValue(text: string, line: string): number {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad sample value in: ${line}`);
  return Number(text);
}

/** Labels of `{a="x",b="y\"z"}`, reading escapes exactly as the format defines them. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!name || !LABEL_NAME.test(name) || text[i + name.length] !== "=" || text[i + name.length + 1] !== '"')
      throw new Error(`bad label in: ${line}`);
    i += name.length + 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === "\n") throw new Error(`raw newline in label value: ${line}`);
      if (c === "\\") {
        const escaped = text[i + 1];
        if (escaped === "n") value += "\n";
        else if (escaped === "\\" || escaped === '"') value += escaped;
        else throw new Error(`bad escape in label value: ${line}`);
        i += 2;
        continue;
      }
      value += c;
      i += 1;
    }
    i += 1;
    if (name in labels) throw new Error(`label ${name} twice in: ${line}`);
    labels[name] = value;
    if (text[i] === ",") i += 1;
    else if (i !== text.length) throw new Error(`bad label separator in: ${line}`);
  }
  return labels;
}

function familyOf(name: string, families: Map<string, MetricFamily>): string | undefined {
  if (families.has(name)) return name;
  for (const [family, { type }] of families) {
    if ((SUFFIXES[type] ?? []).some((suffix) => suffix !== "" && name === family + suffix)) return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  if (!text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (kind === "HELP") {
        if (help.has(name)) throw new Error(`HELP twice for ${name}`);
        help.set(name, rest);
      } else {
        if (!TYPES.has(rest)) throw new Error(`bad TYPE in: ${line}`);
        if (families.has(name)) throw new Error(`TYPE twice for ${name}`);
        const helpText = help.get(name);
        if (helpText === undefined) throw new Error(`TYPE before HELP for ${name}`);
        families.set(name, { help: helpText, type: rest });
      }
      continue;
    }
    if (line.startsWith("#")) throw new Error(`unexpected comment: ${line}`);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, valueText] = sample;
    if (familyOf(name, families) === undefined) throw new Error(`sample of undeclared family: ${line}`);
    const labels = labelText ? parseLabels(labelText, line) : {};
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`series twice: ${line}`);
    seen.add(series);
    samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  const matches = (sample: Sample, labels: Record<string, string>) =>
    Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
  return {
    families,
    samples,
    value: (name, labels = {}) =>
      samples.find(
        (s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && matches(s, labels),
      )?.value,
    select: (name, labels = {}) => samples.filter((s) => s.name === name && matches(s, labels)),
  };
}
