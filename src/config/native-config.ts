import { z } from "zod";
import { levelsSchema, toLevelsConfig } from "./levels-config";
import { ciProviderSchema, toCiProvider } from "./ci-provider-config";
import { duplicateRepoIndexes, repoName } from "./repo-name";
import { LEVELS } from "../vocabulary/levels";
import {
  NOTIFY_CHANNELS,
  RELAYED_EVENTS,
  sameRepo,
  type BrokerGrant,
  type Downstream,
  type RelayConfig,
} from "./types";

/** Defaults of SPEC §2; the CRCR form reuses the ones it shares with the native form. */
export const CONFIG_DEFAULTS = {
  labelPrefix: "ciflow/relay/",
  checkPrefix: "relay",
  runsOnDefault: "self-hosted",
  cacheTtlSeconds: 300,
  pushBranches: ["main"],
  pullRequestActions: ["opened", "reopened", "synchronize", "closed"],
  trust: ["OWNER", "MEMBER", "COLLABORATOR"],
  maxDeliveries: 5,
  pickupTimeoutMinutes: 60,
  jobTimeoutMinutes: 360,
} as const;

/** GitHub's `pull_request` webhook actions; listing them turns a typo in the config into an error. */
const PULL_REQUEST_ACTIONS = [
  "assigned",
  "auto_merge_disabled",
  "auto_merge_enabled",
  "closed",
  "converted_to_draft",
  "demilestoned",
  "dequeued",
  "edited",
  "enqueued",
  "labeled",
  "locked",
  "milestoned",
  "opened",
  "ready_for_review",
  "reopened",
  "review_request_removed",
  "review_requested",
  "synchronize",
  "unassigned",
  "unlabeled",
  "unlocked",
] as const;

/** GitHub's `author_association` values. */
const AUTHOR_ASSOCIATIONS = [
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIME_CONTRIBUTOR",
  "FIRST_TIMER",
  "MANNEQUIN",
  "NONE",
] as const;

export const text = z.string().min(1, { error: "must not be empty" });
const positiveInt = z.int().min(1);
/** Ids are compared as text; an unquoted YAML number is accepted and kept as its digits. */
const numericId = z
  .union([z.string().regex(/^\d+$/), z.int().nonnegative()], { error: "must be a numeric id" })
  .transform(String);
/** Becomes part of the L3 opt-in label, so it stays label-safe. */
export const deviceName = z.string().regex(/^[A-Za-z0-9._-]+$/, { error: "must be letters, digits, '.', '_' or '-'" });
/** Broker operation names (SPEC §6); which ones exist is the broker's table, checked when a request arrives. */
const operationName = z
  .string()
  .regex(/^github(\.[a-z]+)+$/, { error: "must be an operation name like github.pr.read" });

const queueJob = z.strictObject({
  /** Job id, unique within the downstream; sent as the job request's `job_id`. Required. */
  id: text,
  /** Runner label for this job. Default: the downstream's `runs_on`. */
  runs_on: text.optional(),
});

const callerPins = z.strictObject({
  /** The OIDC `repository_id` a callback for this downstream must carry. Default: not pinned. */
  repository_id: numericId.optional(),
  /** SPEC §2 pattern over the OIDC `workflow_ref` claim. Default: not pinned. */
  workflow_ref: text.optional(),
});

const QUEUE_ONLY_KEYS = ["runs_on", "jobs", "max_deliveries"] as const;

const downstream = z
  .strictObject({
    /** The downstream repository, `owner/repo`. Required. */
    repo: repoName,
    /** L1..L4 (SPEC §3). Required. */
    level: z.enum(LEVELS),
    /** L3 only, and required there: the opt-in label is `<label_prefix><device>`. */
    device: deviceName.optional(),
    /** GitHub logins responsible for this downstream. Default: none. */
    oncalls: z.array(text).default(() => []),
    /**
     * L3/L4 only. `comment`: when its per-downstream check on a PR fails or times out, one comment on the
     * upstream PR names it, its conclusion, the run and its oncalls, and is kept up to date. Default: none.
     */
    notify: z.array(z.enum(NOTIFY_CHANNELS)).default(() => []),
    /**
     * Upstream events relayed to it. `[]`: nightly-only, never dispatched (its nightly and periodic
     * reports are still taken). Default: both `pull_request` and `push`.
     */
    events: z.array(z.enum(RELAYED_EVENTS)).default(() => [...RELAYED_EVENTS]),
    /** `dispatch` (repository_dispatch) or `queue` (Redis job stream). Default: `dispatch`. */
    transport: z.enum(["dispatch", "queue"]).default("dispatch"),
    /** Queue only: runner label of the job request. Default: the top-level `runs_on_default`. */
    runs_on: text.optional(),
    /** Queue only: one job request per job. Default: one request for the downstream. */
    jobs: z.array(queueJob).optional(),
    /** Queue only: deliveries before an entry moves to the dead-letter stream. Default: 5. */
    max_deliveries: positiveInt.optional(),
    /** Minutes without any callback before the pending check run times out. Default: 60. */
    pickup_timeout_minutes: positiveInt.default(CONFIG_DEFAULTS.pickupTimeoutMinutes),
    /** Minutes a job may stay in progress before it is timed out. Default: 360. */
    job_timeout_minutes: positiveInt.default(CONFIG_DEFAULTS.jobTimeoutMinutes),
    /** Pins for the OIDC identity reporting as this repo. Default: none. */
    callers: callerPins.prefault({}),
  })
  .superRefine((entry, ctx) => {
    if (entry.level === "L3" && entry.device === undefined) {
      ctx.addIssue({ code: "custom", path: ["device"], message: "required for level L3" });
    }
    if (entry.level !== "L3" && entry.device !== undefined) {
      ctx.addIssue({ code: "custom", path: ["device"], message: "only for level L3" });
    }
    // L1 and L2 have no per-downstream check on the PR to report on (SPEC §3).
    if (entry.notify.length > 0 && entry.level !== "L3" && entry.level !== "L4") {
      ctx.addIssue({ code: "custom", path: ["notify"], message: "only for level L3 or L4" });
    }
    if (entry.transport === "dispatch") {
      for (const key of QUEUE_ONLY_KEYS) {
        if (entry[key] !== undefined)
          ctx.addIssue({ code: "custom", path: [key], message: "only for transport: queue" });
      }
    }
    const jobIds = (entry.jobs ?? []).map((job) => job.id);
    jobIds.forEach((id, index) => {
      if (jobIds.indexOf(id) !== index)
        ctx.addIssue({ code: "custom", path: ["jobs", index, "id"], message: "duplicate job id" });
    });
  });

const grantCaller = z.strictObject({
  /** The OIDC `repository` of the caller, `owner/repo`. Required. */
  repository: repoName,
  /** The OIDC `repository_id`. Default: any. */
  repository_id: numericId.optional(),
  /** SPEC §2 pattern over the OIDC `workflow_ref`. Default: any. */
  workflow_ref: text.optional(),
  /** SPEC §2 pattern over the OIDC `ref`. Default: any. */
  ref: text.optional(),
  /** SPEC §2 patterns over the OIDC `event_name`, one or a list. Default: any. */
  event_name: z.union([text, z.array(text).min(1)]).optional(),
});

const brokerGrant = z
  .strictObject({
    /** Which OIDC identity this grant is for. Required. */
    caller: grantCaller,
    /** Repositories the caller may operate on. Required. */
    repos: z.array(repoName).min(1),
    /** Operations the caller may request. Required. */
    operations: z.array(operationName).min(1),
    /** Operations that may write for real (`dryRun: false`); a subset of `operations`. Default: none. */
    live: z.array(operationName).default(() => []),
  })
  .superRefine((grant, ctx) => {
    grant.live.forEach((operation, index) => {
      if (!grant.operations.includes(operation)) {
        ctx.addIssue({ code: "custom", path: ["live", index], message: "must also be listed in operations" });
      }
    });
    for (const index of duplicateRepoIndexes(grant.repos)) {
      ctx.addIssue({ code: "custom", path: ["repos", index], message: "duplicate repository" });
    }
  });

export const nativeConfigSchema = z
  .strictObject({
    /** Format version. Required: 1. */
    version: z.literal(1),
    /** Repositories whose events are relayed; events of others are ignored. Required. */
    upstreams: z.array(repoName).min(1),
    /** L3 opt-in label is `<label_prefix><device>`. Default: `ciflow/relay/`. */
    label_prefix: text.default(CONFIG_DEFAULTS.labelPrefix),
    /** Check-run names start with this. Default: `relay`. */
    check_prefix: text.default(CONFIG_DEFAULTS.checkPrefix),
    /** Queue transport: `runs_on` when a downstream names none. Default: `self-hosted`. */
    runs_on_default: text.default(CONFIG_DEFAULTS.runsOnDefault),
    /** How long a loaded config is used before it is read again. Default: 300. */
    cache_ttl_seconds: positiveInt.default(CONFIG_DEFAULTS.cacheTtlSeconds),
    /** Which pushes are relayed. */
    push: z
      .strictObject({
        /** Push events are relayed only for these branches (SPEC §2 patterns). Default: `[main]`. */
        branches: z
          .array(text)
          .min(1)
          .default(() => [...CONFIG_DEFAULTS.pushBranches]),
        /** ...and for these tags (globs), such as PyTorch's ciflow tags (SPEC §3). Default: none. */
        tags: z.array(text).default(() => []),
      })
      .prefault({}),
    /** Which pull requests are relayed, and whose. */
    pull_request: z
      .strictObject({
        /** Relayed actions. Default: opened, reopened, synchronize, closed. */
        actions: z
          .array(z.enum(PULL_REQUEST_ACTIONS))
          .min(1)
          .default(() => [...CONFIG_DEFAULTS.pullRequestActions]),
        /** `author_association` values allowed to trigger downstream CI. Default: OWNER, MEMBER, COLLABORATOR. */
        trust: z.array(z.enum(AUTHOR_ASSOCIATIONS)).default(() => [...CONFIG_DEFAULTS.trust]),
        /** Label a maintainer adds to let an untrusted author's PR through. Default: none. */
        trust_label: text.optional(),
      })
      .prefault({}),
    /** Where events are relayed. Default: none. */
    downstreams: z.array(downstream).default(() => []),
    /** Grants for the GitHub broker (SPEC §6); default is deny. Default: none. */
    broker: z.array(brokerGrant).default(() => []),
    /** What each level asks of a downstream's record, and over how many days (SPEC §7). Default: nothing asked, 14 days. */
    levels: levelsSchema,
    /** Callers from CI systems other than GitHub Actions (SPEC §4.1), one entry per issuer. Default: none. */
    ci_providers: z.array(ciProviderSchema).default(() => []),
  })
  .superRefine((config, ctx) => {
    for (const index of duplicateRepoIndexes(config.upstreams)) {
      ctx.addIssue({ code: "custom", path: ["upstreams", index], message: "duplicate repository" });
    }
    for (const index of duplicateRepoIndexes(config.downstreams.map((entry) => entry.repo))) {
      ctx.addIssue({ code: "custom", path: ["downstreams", index, "repo"], message: "duplicate repository" });
    }
    const issuers = config.ci_providers.map((provider) => provider.issuer);
    config.ci_providers.forEach((provider, index) => {
      if (issuers.indexOf(provider.issuer) !== index)
        ctx.addIssue({ code: "custom", path: ["ci_providers", index, "issuer"], message: "duplicate issuer" });
      provider.repo_map.forEach((mapping, mapIndex) => {
        if (!config.downstreams.some((entry) => sameRepo(entry.repo, mapping.repo))) {
          ctx.addIssue({
            code: "custom",
            path: ["ci_providers", index, "repo_map", mapIndex, "repo"],
            message: "is not a configured downstream",
          });
        }
      });
    });
  });

type NativeConfig = z.output<typeof nativeConfigSchema>;
type NativeDownstream = NativeConfig["downstreams"][number];
type NativeGrant = NativeConfig["broker"][number];

function toDownstream(entry: NativeDownstream, runsOnDefault: string): Downstream {
  const runsOn = entry.runs_on ?? runsOnDefault;
  return {
    repo: entry.repo,
    level: entry.level,
    ...(entry.device !== undefined && { device: entry.device }),
    oncalls: entry.oncalls,
    notify: [...new Set(entry.notify)],
    events: entry.events,
    transport: entry.transport,
    runsOn,
    jobs: (entry.jobs ?? []).map((job) => ({ id: job.id, runsOn: job.runs_on ?? runsOn })),
    maxDeliveries: entry.max_deliveries ?? CONFIG_DEFAULTS.maxDeliveries,
    pickupTimeoutMinutes: entry.pickup_timeout_minutes,
    jobTimeoutMinutes: entry.job_timeout_minutes,
    callers: {
      ...(entry.callers.repository_id !== undefined && { repositoryId: entry.callers.repository_id }),
      ...(entry.callers.workflow_ref !== undefined && { workflowRef: entry.callers.workflow_ref }),
    },
  };
}

function toGrant(grant: NativeGrant): BrokerGrant {
  const { repository, repository_id, workflow_ref, ref, event_name } = grant.caller;
  return {
    caller: {
      repository,
      ...(repository_id !== undefined && { repositoryId: repository_id }),
      ...(workflow_ref !== undefined && { workflowRef: workflow_ref }),
      ...(ref !== undefined && { ref }),
      ...(event_name !== undefined && { eventName: typeof event_name === "string" ? [event_name] : event_name }),
    },
    repos: grant.repos,
    operations: grant.operations,
    live: grant.live,
  };
}

/** The validated native form as the normalised config. */
export function nativeToRelayConfig(config: NativeConfig): RelayConfig {
  return {
    form: "native",
    upstreams: config.upstreams,
    labelPrefix: config.label_prefix,
    checkPrefix: config.check_prefix,
    runsOnDefault: config.runs_on_default,
    cacheTtlSeconds: config.cache_ttl_seconds,
    push: { branches: config.push.branches, tags: config.push.tags },
    pullRequest: {
      actions: config.pull_request.actions,
      trust: config.pull_request.trust,
      trustLabel: config.pull_request.trust_label ?? null,
    },
    downstreams: config.downstreams.map((entry) => toDownstream(entry, config.runs_on_default)),
    broker: config.broker.map(toGrant),
    levels: toLevelsConfig(config.levels),
    ciProviders: config.ci_providers.map(toCiProvider),
  };
}
