// One source of truth for resource names, keys, prefixes and environment variables, shared by the
// handlers, the CDK stack (lib/) and the local stack. No AWS imports here.

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Both tables use a generic string partition key + string sort key, and a TTL attribute, so item
 * layouts (versions, shards, counters, idempotency records) can evolve without replacing tables. */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' } as const;

export const tableNames = (stage: string) => ({
  /** user → cluster (+ the user's movies), per model version; also favourites and idempotency records */
  users: `movierec-${stage}-users`,
  /** cluster → ranked movie counts (sharded pages), per model version; model metadata and the active pointer */
  clusters: `movierec-${stage}-clusters`,
  /** Powertools idempotency records of POSTs with an Idempotency-Key (its own key schema: IDEMPOTENCY_KEYS) */
  idempotency: `movierec-${stage}-idempotency`,
});

/** The idempotency table's layout, Powertools' default: partition key `id`, TTL `expiration`. */
export const IDEMPOTENCY_KEYS = { partitionKey: 'id', ttl: 'expiration' } as const;

export const bucketName = (stage: string, account = 'local') => `movierec-${stage}-${account}`;

// The metrics contract between the handlers and the alarms and dashboard (lib/monitoring.ts). The handlers emit
// with Powertools Metrics: the namespace comes from POWERTOOLS_METRICS_NAMESPACE and the one default dimension
// `service` from POWERTOOLS_SERVICE_NAME, which lib/function.ts sets from these. An alarm only fires on a metric
// whose namespace, name and full dimension set match exactly, so both sides take them from here.

/** CloudWatch metrics namespace, per stage so dev and prod metrics never mix. */
export const metricsNamespace = (stage: string): string => `movierec-${stage}`;

/** Powertools `service` (the default dimension of every custom metric), per function; not stage-qualified:
 * the namespace already is. */
export const SERVICE = {
  train: 'movierec-train',
  api: 'movierec-api',
  'train-worker': 'movierec-train-worker',
  'train-central': 'movierec-train-central',
  'train-publish': 'movierec-train-publish',
} as const;

/** Custom metrics the handlers emit (Powertools `addMetric` names). */
export const HANDLER_METRICS = {
  /** training: one per refused upload (malformed, too large, below most-popular, …), Count */
  uploadsRejected: 'uploadsRejected',
  /** training: one per published model version, Seconds */
  publishSeconds: 'publishSeconds',
  /** API: age of the active model when a request read the pointer, Seconds */
  modelAgeSeconds: 'modelAgeSeconds',
  /** training: one per batch export that failed after its version went live (the model stays), Count */
  exportsFailed: 'exportsFailed',
} as const;

/** Keys under `uploads/` trigger training; everything else never does. */
export const S3_PREFIXES = {
  uploads: 'uploads/',
  reports: 'reports/',
  models: 'models/',
  /** batch exports of each version's recommendations (exports/<version>/recommendations.csv.gz) */
  exports: 'exports/',
} as const;

/** S3 user metadata that forces an upload to replace the active model although it has far fewer users or scores
 * below most-popular on its hold-out: `aws s3 cp FILE s3://BUCKET/uploads/NAME --metadata movierec-force=true`
 * (the request header x-amz-meta-movierec-force: true; `movierec upload --force` locally). */
export const FORCE_METADATA = 'movierec-force';
export const FORCE_HINT = `upload the file again with the S3 metadata ${FORCE_METADATA}=true`;

/** The most memory a Lambda function can have (lib/config.ts MAX_MEMORY_MB is the same limit). */
export const LAMBDA_MAX_MEMORY_MB = 10_240;

/** A key with a `.` or `..` path segment. S3 stores it literally, but a file-backed store (the local S3) would
 * resolve it outside its directory, and the report key derived from it would hold the same segments: such an
 * upload is never trained, and the local S3 refuses it. */
export function hasDotSegment(key: string): boolean {
  return key.split(/[/\\]/).some((s) => s === '.' || s === '..');
}

export const ENV = {
  stage: 'MOVIEREC_STAGE',
  usersTable: 'USERS_TABLE',
  clustersTable: 'CLUSTERS_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  bucket: 'BUCKET_NAME',
  /** JSON of TrainingParams overrides, from the stage config */
  trainingParams: 'TRAINING_PARAMS',
  /** top-N per user of the batch export written after each publish; 0 or unset = no export */
  exportTopN: 'EXPORT_TOP_N',
  /** local stack only: endpoints of the emulators */
  dynamoEndpoint: 'DYNAMODB_ENDPOINT',
  s3Endpoint: 'S3_ENDPOINT',
  /** local stack only: the API key the adapter checks (API Gateway does it in AWS) */
  apiKey: 'MOVIEREC_API_KEY',
  /** browser origins the API answers with CORS headers (comma-separated; empty: none) */
  corsOrigins: 'MOVIEREC_CORS_ORIGINS',
} as const;

// ------------------------------------------------------------------------------------------------
// Distributed training (AWS Step Functions): names shared by the handlers, lib/distributed-training.ts
// and local/step-functions.ts.

/** Intermediate data of training runs (expired by a lifecycle rule; never triggers anything). */
export const S3_PREFIXES_DISTRIBUTED = { runs: 'runs/' } as const;

export const stateMachineName = (stage: string) => `movierec-${stage}-training`;

/** The functions of the workflow, by role: per-partition workers (S3 runs/ and ranged reads of uploads/
 * only), central steps (run state, status item, reports), publish steps (the model tables). */
export const DISTRIBUTED_FUNCTIONS = {
  worker: 'train-worker',
  central: 'train-central',
  publish: 'train-publish',
} as const;

/** Execution name of a model version's training: at most one execution per version, ever. */
export const executionNameOf = (version: string, resume?: { job: number; restart: number }) =>
  resume ? `model-${version}-j${resume.job}r${resume.restart}` : `model-${version}`;

export const ENV_DISTRIBUTED = {
  /** 'auto' (train in place when the upload fits the function, else start the state machine), 'single'
   * (always in place) or 'distributed' (always the state machine) */
  trainingMode: 'TRAINING_MODE',
  /** ARN of the training state machine (the router starts executions of it) */
  stateMachineArn: 'TRAINING_STATE_MACHINE_ARN',
  /** 'auto' mode: uploads above this many bytes go to the state machine (default: the function's bound) */
  distributeAboveBytes: 'TRAINING_DISTRIBUTE_ABOVE_BYTES',
} as const;

export type TrainingMode = 'auto' | 'single' | 'distributed';

/** The status item of the training in progress (or the last one), clusters table. */
export const TRAINING_STATUS_KEY = { pk: 'training', sk: 'status' } as const;
/** The single-flight lease item (clusters table), shared with the single-function training. */
export const TRAINING_LEASE_KEY = { pk: 'lease', sk: 'training' } as const;
