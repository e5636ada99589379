import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { AuditRecord } from "../../../src/audit/audit-record";
import { buildAuditRecord } from "../../../src/audit/build-audit-record";
import { createAuditSink } from "../../../src/audit/audit-sink";
import { keys } from "../../../src/records/keys";
import { MemoryStore } from "../../../src/store/memory-store";
import { parseJson } from "../../support/read-json";

const entry = (requestId: string) =>
  buildAuditRecord(
    { requestId, endpoint: "/relay/v1/callback", status: 200, failure: null, startedAt: 0, finishedAt: 1 },
    {},
  );

describe("audit sink", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "audit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("appends one JSON line per record to AUDIT_LOG and to the relay:audit stream", async () => {
    const store = new MemoryStore();
    const path = join(dir, "audit.jsonl");
    const sink = createAuditSink({ log: pino({ level: "silent" }), store, path });
    await Promise.all(["a", "b", "c"].map((id) => sink.record(entry(id))));
    const lines = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => parseJson<AuditRecord>(line).requestId);
    expect(lines.sort()).toEqual(["a", "b", "c"]);
    const stream = await store.readStreamTail(keys.audit, 10);
    expect(stream.map((e) => parseJson<AuditRecord>(e.fields.record).requestId).sort()).toEqual(["a", "b", "c"]);
  });

  test("a broken destination is logged, and the others still get the record", async () => {
    const store = new MemoryStore();
    const errors: string[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => errors.push(line) });
    const sink = createAuditSink({ log, store, path: join(dir, "missing-dir", "audit.jsonl") });
    await sink.record(entry("x"));
    expect(await store.streamLength(keys.audit)).toBe(1);
    expect(errors.join("")).toContain("audit destination failed");
  });
});
