import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Histogram, type Metric } from "prom-client";
import { createMetrics } from "../../../src/metrics/metrics";

interface Panel {
  title: string;
  targets: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(join(__dirname, "../../../deploy/grafana-dashboard.json"), "utf8")) as {
  title: string;
  panels: Panel[];
};
const registry = createMetrics().registry;

/** prom-client keeps a metric's label names on the instance; its types do not show them. */
const labelsOf = (metric: Metric) => (metric as unknown as { labelNames: string[] }).labelNames;

describe("deploy/grafana-dashboard.json", () => {
  const queries = dashboard.panels.flatMap((panel) => panel.targets.map((t) => ({ panel: panel.title, expr: t.expr })));

  it("parses and has panels with queries", () => {
    expect(dashboard.title).toBe("ci-relay");
    expect(queries.length).toBeGreaterThan(10);
  });

  it.each(queries.map((q) => [q.panel, q.expr]))(
    "%s: every metric and label it names exists in the registry (%s)",
    (_panel, expr) => {
      const names = [...expr.matchAll(/\bci_relay_[a-z_]+/g)].map((m) => m[0]);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const histogramPart = /_(bucket|sum|count)$/.exec(name);
        const metric =
          registry.getSingleMetric(name) ??
          (histogramPart ? registry.getSingleMetric(name.slice(0, histogramPart.index)) : undefined);
        expect({ name, known: metric !== undefined }).toEqual({ name, known: true });
        if (metric === undefined) continue;
        if (registry.getSingleMetric(name) === undefined) expect(metric).toBeInstanceOf(Histogram);
        const grouped = [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((l) => l.trim()));
        const allowed = [...labelsOf(metric), ...(metric instanceof Histogram ? ["le"] : [])];
        for (const label of grouped)
          expect({ name, label, known: allowed.includes(label) }).toEqual({ name, label, known: true });
      }
    },
  );
});
