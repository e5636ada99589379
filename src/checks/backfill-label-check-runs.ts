import type { RelayConfig } from "../config/types";
import { sameRepo } from "../config/types";
import type { Outbox } from "../outbox/outbox";
import { notifiesByComment, oncallCommentOps } from "./oncall/oncall-comment-state";
import { checksShownOp } from "../records/check-runs";
import type { Store, WriteOp } from "../store/store";
import { syncCheckRunOps } from "./check-run-state";
import { checkNamesOf, recordedDispatches } from "./recorded-dispatches";
import { tracksCheckRuns, wantsCheckRuns } from "./wants-check-runs";
import type { PullRequestHead } from "./supersede-check-runs";

/** What the back-fill reads (the PR's dispatches and their checks) and writes through. */
export interface BackfillDeps {
  store: Store;
  outbox: Outbox;
}

/**
 * SPEC §3: `<label_prefix><device>` added to a PR shows the check runs of every L3 downstream of
 * that device already dispatched for the PR's head SHA, in whatever state they are (queued, running,
 * finished). A dispatch made after the label carries it already (relay-delivery). Returns how many
 * dispatches gained check runs.
 */
export async function backfillLabelCheckRuns(
  relay: BackfillDeps,
  config: RelayConfig,
  head: PullRequestHead,
  label: string,
  now: number,
): Promise<number> {
  const labelled = config.downstreams.filter((d) => d.level === "L3" && wantsCheckRuns(config, d, [label]));
  if (labelled.length === 0) return 0;
  const dispatches = (await recordedDispatches(relay.store, { repo: head.repo, pr: head.number })).filter(
    (r) =>
      r.upstream.sha === head.sha &&
      r.level === "L3" &&
      tracksCheckRuns(r) &&
      labelled.some((d) => sameRepo(d.repo, r.downstream)),
  );
  const ops: WriteOp[] = [];
  for (const record of dispatches) {
    ops.push(checksShownOp(record.requestId));
    for (const name of await checkNamesOf(relay.store, record)) {
      ops.push(
        ...syncCheckRunOps(relay.outbox, { upstream: record.upstream.repo, sha: record.upstream.sha, name }, now),
      );
    }
  }
  // A result that came before the label now shows on the PR, and so in its oncall comment.
  const notifying = dispatches.find((record) => notifiesByComment(config, record.downstream));
  if (notifying) ops.push(...oncallCommentOps(relay.outbox, config, notifying, now));
  if (ops.length > 0) await relay.store.write(ops);
  return dispatches.length;
}
