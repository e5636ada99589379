import type { Logger } from "pino";
import type { Probot } from "probot";
import type { AuditSink } from "./audit/audit-record";
import { createAuditSink } from "./audit/audit-sink";
import { createOidcVerifier, type OidcVerifier } from "./auth/oidc-verifier";
import { CHECK_RUN_TASK } from "./checks/check-run-state";
import { CIFLOW_LABELS_TASK, ciflowLabelsTask } from "./relay/ciflow-labels-task";
import { WORKFLOW_RUN_TASK, workflowRunTask } from "./callback/workflow-run-task";
import { RERUN_TASK, rerunDownstreamTask } from "./checks/rerun-downstream-task";
import { syncCheckRunTask } from "./checks/sync-check-run-task";
import { ConfigSource } from "./config/config-source";
import type { RelayEnv } from "./config/env";
import { AppGitHub } from "./github/app-github";
import { GitHubCalls } from "./github/github-calls";
import { readRepoFile } from "./github/read-repo-file";
import { HUD_TASK, hudTask } from "./hud/hud-task";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { ONCALL_COMMENT_TASK } from "./checks/oncall/oncall-comment-state";
import { oncallCommentTask } from "./checks/oncall/oncall-comment-task";
import { Outbox } from "./outbox/outbox";
import { enqueueJobTask } from "./queue/enqueue-job-task";
import { OutboxRunner, type TaskHandlers } from "./outbox/outbox-runner";
import { dispatchTask } from "./relay/dispatch-task";
import { DISPATCH_TASK, ENQUEUE_JOB_TASK } from "./relay/relay-delivery";
import { createStore } from "./store/create-store";
import type { Store } from "./store/store";

/** Everything the relay's handlers and routes share; built once per process (or Lambda container). */
export interface Relay {
  env: RelayEnv;
  log: Logger;
  probot: Probot;
  store: Store;
  config: ConfigSource;
  github: AppGitHub;
  /** every GitHub call's outcome, and lastOkAt / failingSince for health */
  githubCalls: GitHubCalls;
  metrics: Metrics;
  outbox: Outbox;
  runner: OutboxRunner;
  oidc: OidcVerifier;
  audit: AuditSink;
  /** the relay's clock (epoch ms); tests hand in their own */
  now: () => number;
}

/** Collaborators a test or another deployment may hand in instead of the defaults. */
export interface RelayOverrides {
  store?: Store;
  metrics?: Metrics;
  /** the one the Probot's Octokit reports to (`createProbot`); a fresh one otherwise */
  githubCalls?: GitHubCalls;
  /** how the OIDC verifier reaches the issuers (discovery, keys) */
  fetch?: typeof fetch;
  now?: () => number;
  /** false on Lambda: no outbox work after an invocation answers (see OutboxRunnerOptions) */
  background?: boolean;
}

export function createRelay(probot: Probot, env: RelayEnv, overrides: RelayOverrides = {}): Relay {
  const log = probot.log.child({ name: "relay" });
  const store =
    overrides.store ??
    createStore({ redisUrl: env.redisUrl, redisCluster: env.redisCluster, prefix: env.redisPrefix, log });
  const metrics = overrides.metrics ?? createMetrics();
  const githubCalls = overrides.githubCalls ?? new GitHubCalls(metrics, overrides.now);
  githubCalls.useStore(store);
  const github = new AppGitHub(probot, store, metrics);
  const config = new ConfigSource({ env, readFile: readRepoFile(github), store, logger: log, now: overrides.now });
  const outbox = new Outbox(store);
  const relay: RelayCore = { env, log, probot, store, config, github, githubCalls, metrics, outbox };
  const runner = new OutboxRunner({
    outbox,
    handlers: taskHandlers(relay, overrides),
    log,
    metrics,
    concurrency: env.outboxConcurrency,
    leaseMs: env.outboxLeaseSeconds * 1000,
    giveUpAfterMs: env.dispatchGiveUpMinutes * 60_000,
    background: overrides.background,
    now: overrides.now,
  });
  const oidc = createOidcVerifier({ issuer: env.oidcIssuer, fetch: overrides.fetch });
  const audit = createAuditSink({ log, store, path: env.auditLog });
  return { ...relay, runner, oidc, audit, now: overrides.now ?? Date.now };
}

/** What the task handlers are built from: the relay before its runner exists. */
type RelayCore = Omit<Relay, "runner" | "oidc" | "audit" | "now">;

/** One line per kind of durable side effect (outbox/task-data.ts): the compiler asks for every kind. */
function taskHandlers(relay: RelayCore, overrides: RelayOverrides): TaskHandlers {
  return {
    [DISPATCH_TASK]: dispatchTask({
      store: relay.store,
      github: relay.github,
      metrics: relay.metrics,
      log: relay.log,
      publicUrl: relay.env.relayPublicUrl,
      relayTokenSecrets: relay.env.relayTokenSecrets,
      now: overrides.now,
    }),
    [ENQUEUE_JOB_TASK]: enqueueJobTask({
      ...relay,
      publicUrl: relay.env.relayPublicUrl,
      webBaseUrl: `https://${relay.env.gheHost ?? "github.com"}`,
      relayTokenSecrets: relay.env.relayTokenSecrets,
      now: overrides.now,
    }),
    [HUD_TASK]: hudTask(relay.env, relay.log),
    [CHECK_RUN_TASK]: syncCheckRunTask({
      store: relay.store,
      github: relay.github,
      log: relay.log,
      publicUrl: relay.env.relayPublicUrl,
    }),
    [RERUN_TASK]: rerunDownstreamTask({ github: relay.github, log: relay.log }),
    [CIFLOW_LABELS_TASK]: ciflowLabelsTask({ ...relay, now: overrides.now }),
    [WORKFLOW_RUN_TASK]: workflowRunTask({ ...relay, now: overrides.now }),
    [ONCALL_COMMENT_TASK]: oncallCommentTask({ ...relay, publicUrl: relay.env.relayPublicUrl }),
  };
}
