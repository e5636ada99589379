/**
 * audit/ owns the SPEC §6 audit trail: one record per broker request and per callback, built from what
 * the endpoint learned (no tokens), appended to a capped Redis stream and, when AUDIT_LOG is set, to a
 * file.
 */
import { appendFile } from "node:fs/promises";
import type { Logger } from "pino";
import { appendAuditRecord } from "../records/audit";
import type { Store } from "../store/store";
import type { AuditRecord, AuditSink } from "./audit-record";

export interface AuditSinkOptions {
  log: Logger;
  store: Pick<Store, "write">;
  /** AUDIT_LOG: JSON lines appended here too */
  path?: string;
}

/**
 * SPEC §6 destinations: the log, the AUDIT_LOG file, the capped stream `relay:audit`. A destination
 * that fails is logged and skipped: auditing never changes a request's answer, and one broken
 * destination does not silence the others.
 */
export function createAuditSink({ log, store, path }: AuditSinkOptions): AuditSink {
  return {
    async record(entry: AuditRecord) {
      log.info({ audit: entry }, "audit");
      const line = JSON.stringify(entry);
      const destinations: Promise<void>[] = [appendAuditRecord(store, line)];
      // One write call per line with O_APPEND: concurrent records never interleave within a line.
      if (path !== undefined) destinations.push(appendFile(path, `${line}\n`, "utf8"));
      const results = await Promise.allSettled(destinations);
      for (const result of results) {
        if (result.status === "rejected")
          log.error({ err: result.reason, requestId: entry.requestId }, "audit destination failed");
      }
    },
  };
}
