// Typed per-stage configuration. `cdk deploy -c stage=<name>` selects one entry of STAGE_CONFIG;
// everything that differs between environments lives here and nowhere else in lib/.
//
// This module is plain data (no aws-cdk-lib import) so that `movierec doctor` can read exactly what a
// deploy of a stage would ask AWS for, without loading the CDK.
//
// Defaults are quota-safe: a stage deploys on a brand-new account, whose Lambda quotas are reduced
// ("New AWS accounts have reduced concurrency and memory quotas", Lambda quotas,
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): 10 concurrent executions
// and functions of at most 3,008 MB. So no stage reserves concurrency, no stage provisions concurrency and
// no function asks for more than 3,008 MB unless the operator opts in with context (CONTEXT_KEYS below).
import type { TrainOverrides } from '../functions/core/train';
import { STAGES, type Stage, type TrainingMode } from '../functions/shared/resources';

export { STAGES, type Stage };

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Memory (MB) every account can use: new accounts are capped here until AWS raises the cap (there is no
 * API to read the cap: see docs/DEPLOY.md "Quotas"). */
export const QUOTA_SAFE_MEMORY_MB = 3008;
/** Lambda's own ceiling for a function's memory (MB). */
export const MAX_MEMORY_MB = 10_240;

export interface FunctionSizing {
  /** MB, 128–10,240 (over 3,008 only by opt-in: QUOTA_SAFE_MEMORY_MB) */
  memorySize: number;
  timeoutSeconds: number;
  /** MiB of /tmp, 512–10,240 */
  ephemeralStorageMiB: number;
}

/** One API key: a consumer name and a generation. Generation 1 keeps the historical key (no suffix);
 * rotating a consumer's key = deploying generation n+1 next to n, moving the client, then dropping n. */
export interface ApiKeySpec {
  consumer: string;
  generation: number;
}

/** What happens to stateful resources (buckets, tables, log groups, DLQ, KMS key) when the stack is deleted
 * or a resource is replaced: `destroy` deletes them; `retain` keeps them on delete and replacement but lets a
 * failed first create roll back cleanly (CloudFormation DeletionPolicy RetainExceptOnCreate). */
export type Removal = 'destroy' | 'retain';

export interface StageConfig {
  stage: Stage;
  training: FunctionSizing & {
    /** training parameters (algorithm, K-means, taste settings), passed to the training Lambda as env
     * TRAINING_PARAMS (JSON); unset fields take the algorithm's defaults (functions/core/recommender/params.ts) */
    params: TrainOverrides;
    /** async-invocation retries after a failure (0–2) */
    retryAttempts: number;
    /** how long an upload event may wait in Lambda's async queue (throttled) before the DLQ, ≤ 6 h */
    maxEventAgeHours: number;
  };
  /** training past one function: the Step Functions state machine (lib/distributed-training.ts) */
  distributed: {
    /** 'auto': uploads the training function cannot hold go to the state machine; 'single': never;
     * 'distributed': always (the context setting `trainingMode`) */
    mode: TrainingMode;
    /** concurrent workers of each Distributed Map pass: below the account's Lambda concurrency, which the
     * API shares (a new account has 10; `distributedConcurrency`) */
    maxConcurrency: number;
    /** per-partition workers, central steps, publish steps */
    worker: FunctionSizing;
    central: FunctionSizing;
    publish: FunctionSizing;
    /** an execution (a training) may run this long */
    timeoutHours: number;
  };
  api: FunctionSizing & {
    /** provisioned concurrency of the API Lambda's `live` alias; 0 = none (opt-in: `apiProvisioned`) */
    provisionedConcurrency: number;
    /** stage-wide throttle (requests/s, burst) — also each API key's limit in the usage plan — and an optional
     * daily quota per key (undefined = none: a quota below rate × 86,400 runs out before the day ends) */
    throttle: { rateLimit: number; burstLimit: number; quotaPerDay?: number };
    /** browser origins allowed to call the API (CORS); empty = no CORS */
    corsOrigins: string[];
    /** one API key per consumer, all in the stage's usage plan */
    keys: ApiKeySpec[];
  };
  /** the batch export after each publish: every user's top-N to exports/<version>/recommendations.csv.gz
   * (0 = none; `-c exportTopN=N`). The training role may write exports/* only when N > 0. */
  exports: { topN: number };
  logLevel: LogLevel;
  /** days; one of CloudWatch Logs' retention values */
  logRetentionDays: number;
  removal: Removal;
  /** DynamoDB deletion protection. Off by default even in prod: a protected table cannot be deleted by the
   * rollback of a failed first create either, which would leave it behind and make the next deploy fail with
   * "already exists". Turn it on once the stack exists (`-c prod:tableDeletionProtection=true`). */
  tableDeletionProtection: boolean;
  pointInTimeRecovery: boolean;
  /** lifecycle of the uploads bucket */
  lifecycle: { noncurrentVersionDays: number; reportsDays: number; accessLogsDays: number };
  alarms: {
    /** API 5xx responses per 5 minutes that raise the alarm */
    api5xxPer5Min: number;
    /** API Gateway p99 latency (ms) over 5 minutes */
    apiP99LatencyMs: number;
    /** API Lambda throttles per 5 minutes */
    apiThrottlesPer5Min: number;
    /** refused uploads (malformed, too large, …) per 5 minutes */
    uploadsRejectedPer5Min: number;
    /** e-mail subscribed to the alarm topic (optional; `-c alarmEmail=…`) */
    email?: string;
  };
}

export const STAGE_CONFIG: Record<Stage, StageConfig> = {
  dev: {
    stage: 'dev',
    training: {
      memorySize: QUOTA_SAFE_MEMORY_MB,
      timeoutSeconds: 300,
      ephemeralStorageMiB: 1024,
      // the default taste model with one restart per clustering: dev trains on samples and must be quick and cheap
      params: { algorithm: 'taste', nInit: 1, randomState: 0 },
      retryAttempts: 0,
      maxEventAgeHours: 1,
    },
    distributed: {
      mode: 'auto',
      maxConcurrency: 4,
      worker: { memorySize: QUOTA_SAFE_MEMORY_MB, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      central: { memorySize: QUOTA_SAFE_MEMORY_MB, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      publish: { memorySize: 1024, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      timeoutHours: 12,
    },
    api: {
      memorySize: 512,
      timeoutSeconds: 10,
      ephemeralStorageMiB: 512,
      provisionedConcurrency: 0,
      throttle: { rateLimit: 10, burstLimit: 20 },
      corsOrigins: [],
      keys: [{ consumer: 'default', generation: 1 }],
    },
    // off: dev trains samples that nobody mails or scores offline
    exports: { topN: 0 },
    logLevel: 'DEBUG',
    logRetentionDays: 14,
    removal: 'destroy',
    tableDeletionProtection: false,
    pointInTimeRecovery: false,
    lifecycle: { noncurrentVersionDays: 7, reportsDays: 30, accessLogsDays: 30 },
    alarms: { api5xxPer5Min: 5, apiP99LatencyMs: 2000, apiThrottlesPer5Min: 1, uploadsRejectedPer5Min: 1 },
  },
  prod: {
    stage: 'prod',
    training: {
      // quota-safe by default: training plans with the memory its distinct (user, movie) pairs, users and
      // movies need (functions/core/memory.ts, fitted on measured peak RSS): MovieLens 25M needs about
      // 3,200 MB: deploy with -c prod:trainingMemory=10240 (maximum memory, and with it 6 vCPUs for the
      // K-means worker threads) once the account allows it (doctor).
      memorySize: QUOTA_SAFE_MEMORY_MB,
      // the 15-minute Lambda ceiling, and /tmp room for an uncompressed copy of a large upload plus reports
      timeoutSeconds: 900,
      ephemeralStorageMiB: 2048,
      // the default taste model (k, temperature and recency chosen on a hold-out of each upload; see
      // EVALUATION.md). The seed project's algorithm is { algorithm: 'seed' } (k=15, n_init=10, …).
      params: { algorithm: 'taste', randomState: 0 },
      retryAttempts: 1,
      maxEventAgeHours: 6,
    },
    distributed: {
      mode: 'auto',
      // quota-safe: a new account runs 10 functions at once, and the API needs its share; raise it with
      // -c prod:distributedConcurrency=100 once the account's concurrency allows (movierec doctor)
      maxConcurrency: 4,
      worker: { memorySize: QUOTA_SAFE_MEMORY_MB, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      central: { memorySize: QUOTA_SAFE_MEMORY_MB, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      publish: { memorySize: 1024, timeoutSeconds: 900, ephemeralStorageMiB: 512 },
      timeoutHours: 12,
    },
    api: {
      memorySize: 1024,
      timeoutSeconds: 10,
      ephemeralStorageMiB: 512,
      // opt-in (-c prod:apiProvisioned=2): needs an account concurrency quota of at least 100 + 2
      provisionedConcurrency: 0,
      throttle: { rateLimit: 100, burstLimit: 200 },
      corsOrigins: [],
      keys: [{ consumer: 'default', generation: 1 }],
    },
    // every user's top 10 after each publish, for e-mail and offline jobs (about 1 s per 10,000 users)
    exports: { topN: 10 },
    logLevel: 'INFO',
    logRetentionDays: 90,
    removal: 'retain',
    tableDeletionProtection: false,
    pointInTimeRecovery: true,
    lifecycle: { noncurrentVersionDays: 30, reportsDays: 180, accessLogsDays: 365 },
    alarms: { api5xxPer5Min: 1, apiP99LatencyMs: 1000, apiThrottlesPer5Min: 1, uploadsRejectedPer5Min: 1 },
  },
};

// ------------------------------------------------------------------------------------------------------
// Context overrides: `-c <key>=<value>` applies to the stage being synthesised; `-c <stage>:<key>=<value>`
// (or the same key in cdk.json's "context", where it can be committed) applies to that stage only.

export const CONTEXT_KEYS = {
  trainingMemory: 'training function memory in MB (128–10240; over 3008 needs an account whose memory cap was raised)',
  apiProvisioned: "provisioned concurrency of the API alias (0 = none; needs unreserved account concurrency ≥ 100 + this)",
  alarmEmail: 'an e-mail address subscribed to the alarm topic',
  corsOrigins: 'comma-separated browser origins allowed to call the API (https://app.example.com,…), or *',
  apiKeys: 'comma-separated API key consumers, each optionally with a generation: web,batch:2',
  apiQuotaPerDay: 'requests per day per API key (0 = no quota, the default)',
  tableDeletionProtection: 'true to turn on DynamoDB deletion protection (after the first successful deploy)',
  trainingMode: "auto (uploads too large for the training function go to the Step Functions state machine), single or distributed",
  distributedConcurrency: 'concurrent workers of each Distributed Map pass (1–1000; keep it below the account concurrency the API shares)',
  exportTopN: "each user's top-N written to exports/<version>/recommendations.csv.gz after every publish (0 = no export; 1–1000)",
} as const;
export type ContextKey = keyof typeof CONTEXT_KEYS;

/** A one-sentence configuration error (wrong stage, bad override). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const CONSUMER = /^[a-z][a-z0-9-]{0,29}$/;

/** The stage selected by `-c stage=<name>` with its context overrides applied; throws a ConfigError (one
 * sentence) for a missing or unknown stage or a bad override. Accepts an app/stack or a plain context object. */
export function resolveStage(source: { node: { tryGetContext(key: string): unknown; getAllContext?(): Record<string, unknown> } } | Record<string, unknown>): StageConfig {
  const context: Record<string, unknown> = isConstruct(source)
    ? (source.node.getAllContext?.() ?? { stage: source.node.tryGetContext('stage') })
    : source;
  const raw = context.stage;
  if (typeof raw !== 'string' || !(STAGES as readonly string[]).includes(raw)) {
    const what = raw === undefined ? 'No stage given' : `Unknown stage "${String(raw)}"`;
    throw new ConfigError(`${what}: pass one of ${STAGES.join(', ')} with -c stage=<name> (e.g. npx cdk synth -c stage=dev).`);
  }
  return applyOverrides(STAGE_CONFIG[raw as Stage], context);
}

function isConstruct(x: unknown): x is { node: { tryGetContext(key: string): unknown; getAllContext?(): Record<string, unknown> } } {
  return typeof x === 'object' && x !== null && 'node' in x && typeof (x as { node?: { tryGetContext?: unknown } }).node?.tryGetContext === 'function';
}

/** The stage's config with the overrides found in `context` (see CONTEXT_KEYS). */
export function applyOverrides(base: StageConfig, context: Record<string, unknown>): StageConfig {
  const stage = base.stage;
  for (const key of Object.keys(context)) {
    const m = /^([a-z]+):([A-Za-z]+)$/.exec(key);
    if (m && (STAGES as readonly string[]).includes(m[1]) && !(m[2] in CONTEXT_KEYS)) {
      throw new ConfigError(`Unknown setting "${key}": the settings are ${Object.keys(CONTEXT_KEYS).join(', ')}.`);
    }
    if (!key.includes(':') && /^(training|api|alarm|cors|table|export|distributed)[A-Z]/.test(key) && !(key in CONTEXT_KEYS)) {
      throw new ConfigError(`Unknown setting "${key}": the settings are ${Object.keys(CONTEXT_KEYS).join(', ')}.`);
    }
  }
  const get = (key: ContextKey): unknown => {
    const scoped = context[`${stage}:${key}`];
    const plain = context[key];
    if (scoped !== undefined && plain !== undefined && String(scoped) !== String(plain)) {
      throw new ConfigError(`"${stage}:${key}" is ${String(scoped)} but "${key}" is ${String(plain)}: give one of them.`);
    }
    return scoped ?? plain;
  };
  const cfg: StageConfig = structuredClone(base);

  const memory = get('trainingMemory');
  if (memory !== undefined) cfg.training.memorySize = intSetting('trainingMemory', memory, 128, MAX_MEMORY_MB);
  const provisioned = get('apiProvisioned');
  if (provisioned !== undefined) cfg.api.provisionedConcurrency = intSetting('apiProvisioned', provisioned, 0, 1000);
  const quota = get('apiQuotaPerDay');
  if (quota !== undefined) {
    const n = intSetting('apiQuotaPerDay', quota, 0, 1_000_000_000);
    cfg.api.throttle.quotaPerDay = n === 0 ? undefined : n;
  }
  const email = get('alarmEmail');
  if (email !== undefined) {
    const e = String(email).trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) throw new ConfigError(`alarmEmail must be an e-mail address, got "${e}".`);
    cfg.alarms.email = e;
  }
  const cors = get('corsOrigins');
  if (cors !== undefined) cfg.api.corsOrigins = listSetting(cors).map((o) => corsOrigin(o));
  if (cfg.api.corsOrigins.includes('*') && cfg.api.corsOrigins.length > 1) {
    throw new ConfigError('corsOrigins is either * or a list of origins, not both.');
  }
  const keys = get('apiKeys');
  if (keys !== undefined) cfg.api.keys = apiKeySpecs(listSetting(keys));
  const mode = get('trainingMode');
  if (mode !== undefined) {
    if (!['auto', 'single', 'distributed'].includes(String(mode))) throw new ConfigError(`trainingMode must be auto, single or distributed, got "${String(mode)}".`);
    cfg.distributed.mode = String(mode) as TrainingMode;
  }
  const concurrency = get('distributedConcurrency');
  if (concurrency !== undefined) cfg.distributed.maxConcurrency = intSetting('distributedConcurrency', concurrency, 1, 1000);
  const topN = get('exportTopN');
  if (topN !== undefined) cfg.exports.topN = intSetting('exportTopN', topN, 0, 1000);
  const protect = get('tableDeletionProtection');
  if (protect !== undefined) cfg.tableDeletionProtection = boolSetting('tableDeletionProtection', protect);
  return cfg;
}

function intSetting(key: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got "${String(value)}".`);
  }
  return n;
}

function boolSetting(key: string, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`${key} must be true or false, got "${String(value)}".`);
}

function listSetting(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function corsOrigin(o: string): string {
  if (o === '*') return o;
  let url: URL;
  try {
    url = new URL(o);
  } catch {
    throw new ConfigError(`corsOrigins: "${o}" is not an origin like https://app.example.com.`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== o) {
    throw new ConfigError(`corsOrigins: "${o}" is not an origin like https://app.example.com (scheme and host, no path or trailing slash).`);
  }
  return o;
}

function apiKeySpecs(items: string[]): ApiKeySpec[] {
  if (items.length === 0) throw new ConfigError('apiKeys needs at least one consumer name, e.g. -c apiKeys=web,batch.');
  const specs = items.map((item) => {
    const [consumer, gen, ...rest] = item.split(':');
    if (rest.length || !CONSUMER.test(consumer)) {
      throw new ConfigError(`apiKeys: "${item}" is not a consumer name (lower-case letters, digits, -) with an optional :generation.`);
    }
    return { consumer, generation: gen === undefined ? 1 : intSetting(`apiKeys generation of ${consumer}`, gen, 1, 999) };
  });
  const seen = new Set<string>();
  for (const s of specs) {
    const id = `${s.consumer}:${s.generation}`;
    if (seen.has(id)) throw new ConfigError(`apiKeys lists ${id} twice.`);
    seen.add(id);
  }
  return specs;
}

/** The name every resource of a stage carries, e.g. `movierec-prod-api`. */
export const resourceName = (stage: Stage, suffix: string): string => `movierec-${stage}-${suffix}`;
