/**
 * records/ owns the Redis layout: this file names every key the relay uses, and one module per record
 * family holds its schema, its reader (validated on read) and the ops that write it. Domain folders
 * call those; none spells a key or an op.
 *
 * Keys are given without the operator's REDIS_PREFIX: the store adds it (store/prefixed-key.ts), in one place.
 *
 * Hash tags (Redis Cluster): an atomic write (a Lua script or MULTI) must touch keys of one slot, and
 * Redis hashes only the text inside a key's first `{…}` when it has one. So:
 * - `{outbox}`: everything that commits together with outbox tasks (deliveries, dispatches, check runs,
 *   jobs, their indexes and deadlines, the outbox itself). One outbox due-set means one slot carries
 *   all of it; see the README's "Redis Cluster" section for how it would be partitioned.
 * - `{relay:jobs}`: the job-request stream's companions. The stream's name is fixed by SPEC §3
 *   (`relay:jobs`, no tag), and a key whose tag is a whole key's name shares that key's slot.
 * - `{github}`: the GitHub health pair, written together.
 * Every other key is written on its own and spreads over the cluster.
 */

const OUTBOX = "relay:{outbox}";
const JOBS_STREAM = "relay:jobs";
const JOBS = `relay:jobs:{${JOBS_STREAM}}`;

const lower = (text: string) => text.toLowerCase();

/** The one list: every key, by record family. */
export const keys = {
  outbox: {
    /** the lanes that have work, scored by when each next does (see outbox/lanes.ts) */
    lanes: `${OUTBOX}:outbox:lanes`,
    /** a lane's tasks, scored by when each is due (or held until, while claimed) */
    lane: (lane: string) => `${OUTBOX}:outbox:lane:${lane}`,
    /** what `lane` puts before the lane's name: the store's lane claim derives each lane's key from it */
    lanePrefix: `${OUTBOX}:outbox:lane:`,
    /** the single due set of versions before lanes: still drained, never written to again */
    legacyDue: `${OUTBOX}:outbox:due`,
    /** when each task last became due; a claim does not move it (see Outbox) */
    dueSince: `${OUTBOX}:outbox:due-since`,
    dead: `${OUTBOX}:outbox:dead`,
    task: (id: string) => `${OUTBOX}:outbox:task:${id}`,
  },
  deliveries: {
    /** the claim, then "done": a delivery is relayed once */
    claim: (deliveryId: string) => `${OUTBOX}:delivery:${deliveryId}`,
    payload: (deliveryId: string) => `${OUTBOX}:payload:${deliveryId}`,
    summary: (deliveryId: string) => `${OUTBOX}:explain:${deliveryId}`,
    recent: `${OUTBOX}:explain:recent`,
    byPr: (repo: string, pr: number) => `${OUTBOX}:explain:pr:${lower(repo)}:${pr}`,
  },
  dispatches: {
    record: (requestId: string) => `${OUTBOX}:dispatch:${requestId}`,
    recent: `${OUTBOX}:runs`,
    bySha: (repo: string, sha: string) => `${OUTBOX}:runs:sha:${lower(repo)}:${sha}`,
    byPr: (repo: string, pr: number) => `${OUTBOX}:runs:pr:${lower(repo)}:${pr}`,
    byDownstream: (downstream: string) => `${OUTBOX}:runs:downstream:${lower(downstream)}`,
  },
  jobs: {
    record: (jobId: string) => `${OUTBOX}:job:${jobId}`,
    ofDispatch: (requestId: string) => `${OUTBOX}:jobs-of:${requestId}`,
  },
  checkRuns: {
    wanted: (checkKey: string) => `${OUTBOX}:check:want:${checkKey}`,
    names: (requestId: string) => `${OUTBOX}:check:names:${requestId}`,
    shown: (requestId: string) => `${OUTBOX}:check:shown:${requestId}`,
    downstreamRun: (requestId: string) => `${OUTBOX}:check:run:${requestId}`,
    dispatchOfRun: (downstream: string, runId: string) => `${OUTBOX}:check:run-of:${lower(downstream)}:${runId}`,
    /** written alone (by the sync task): no tag */
    known: (checkKey: string) => `relay:check:id:${checkKey}`,
    /** set just before the app first asks GitHub to create the check run */
    creating: (checkKey: string) => `relay:check:creating:${checkKey}`,
    lock: (checkKey: string) => `relay:check:lock:${checkKey}`,
  },
  deadlines: {
    checkRuns: `${OUTBOX}:check:deadlines`,
    jobs: `${OUTBOX}:job:deadlines`,
  },
  nightly: {
    /** committed with the report's HUD task: under the outbox tag */
    report: (reportId: string) => `${OUTBOX}:nightly:report:${reportId}`,
    recent: `${OUTBOX}:nightly:reports`,
    bySha: (upstream: string, sha: string) => `${OUTBOX}:nightly:sha:${lower(upstream)}:${lower(sha)}`,
    /** written alone: no tag */
    commitCheck: (upstream: string, sha: string) => `relay:nightly:commit:${lower(upstream)}:${lower(sha)}`,
  },
  oncallComments: {
    /** written alone (by the oncall-comment task): no tag */
    comment: (upstream: string, prNumber: number) => `relay:oncall:comment:${lower(upstream)}:${prNumber}`,
    lock: (upstream: string, prNumber: number) => `relay:oncall:lock:${lower(upstream)}:${prNumber}`,
  },
  jobRequests: {
    /** SPEC §3: the stream self-hosted orchestrators read */
    stream: JOBS_STREAM,
    /** SPEC §3 */
    deadLetters: "relay:jobs:dlq",
    enqueued: (requestId: string, jobId: string) => `${JOBS}:enqueued:${requestId}:${encodeURIComponent(jobId)}`,
    maxDeliveries: (downstream: string) => `${JOBS}:max-deliveries:${lower(downstream)}`,
  },
  /** SPEC §6 */
  audit: "relay:audit",
  replayGuard: (jtiHash: string) => `relay:jti:${jtiHash}`,
  idempotentWrite: (scopeHash: string) => `relay:broker:write:${scopeHash}`,
  configCache: (sourceHash: string) => `relay:config:${sourceHash}`,
  appSlug: "relay:app-slug",
  installation: (repo: string) => `relay:installation:${lower(repo)}`,
  callbackRateWindow: (repo: string, window: number) => `relay:rate:callback:${lower(repo)}:${window}`,
  writePacing: (installationId: number) => `relay:pace:write:${installationId}`,
  githubCalls: {
    lastOkAt: "relay:{github}:last-ok-at",
    failingSince: "relay:{github}:failing-since",
  },
  redelivery: {
    lock: "relay:redeliver:lock",
    seenUntil: "relay:redeliver:seen-until",
    asked: (guid: string) => `relay:redeliver:asked:${guid}`,
  },
} as const;
