// Typed per-stage configuration. `cdk deploy -c stage=<name>` selects one entry of STAGE_CONFIG;
// everything that differs between environments lives here and nowhere else in lib/.
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import type { TrainOverrides } from '../functions/core/train';
import { STAGES, type Stage } from '../functions/shared/resources';

export { STAGES, type Stage };

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface FunctionSizing {
  /** MB, 128–10,240 */
  memorySize: number;
  timeoutSeconds: number;
  /** MiB of /tmp, 512–10,240 */
  ephemeralStorageMiB: number;
}

export interface StageConfig {
  stage: Stage;
  training: FunctionSizing & {
    /** training parameters (algorithm, K-means, taste settings), passed to the training Lambda as env
     * TRAINING_PARAMS (JSON); unset fields take the algorithm's defaults (functions/core/recommender/params.ts) */
    params: TrainOverrides;
    /** async-invocation retries after a failure (0–2) */
    retryAttempts: number;
    /** how long an upload event may wait (throttled behind a running training) before the DLQ, ≤ 6 h */
    maxEventAgeHours: number;
  };
  api: FunctionSizing & {
    /** provisioned concurrency of the API Lambda's `live` alias; 0 = none */
    provisionedConcurrency: number;
    /** usage plan: steady requests/s, burst, requests per day */
    throttle: { rateLimit: number; burstLimit: number; quotaPerDay: number };
  };
  logLevel: LogLevel;
  logRetention: RetentionDays;
  /** RETAIN keeps tables/buckets when the stack is deleted; DESTROY empties and removes them */
  removalPolicy: RemovalPolicy;
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
    /** e-mail subscribed to the alarm topic (optional) */
    email?: string;
  };
}

export const STAGE_CONFIG: Record<Stage, StageConfig> = {
  dev: {
    stage: 'dev',
    training: {
      memorySize: 3008,
      timeoutSeconds: 300,
      ephemeralStorageMiB: 1024,
      // the default taste model with one restart per clustering: dev trains on samples and must be quick and cheap
      params: { algorithm: 'taste', nInit: 1, randomState: 0 },
      retryAttempts: 0,
      maxEventAgeHours: 1,
    },
    api: {
      memorySize: 512,
      timeoutSeconds: 10,
      ephemeralStorageMiB: 512,
      provisionedConcurrency: 0,
      throttle: { rateLimit: 10, burstLimit: 20, quotaPerDay: 10_000 },
    },
    logLevel: 'DEBUG',
    logRetention: RetentionDays.TWO_WEEKS,
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    lifecycle: { noncurrentVersionDays: 7, reportsDays: 30, accessLogsDays: 30 },
    alarms: { api5xxPer5Min: 5, apiP99LatencyMs: 2000, apiThrottlesPer5Min: 1 },
  },
  prod: {
    stage: 'prod',
    training: {
      // sized for MovieLens 25M (162k users × 59k movies, 25M ratings): maximum memory (and with it
      // 6 vCPUs for the K-means worker threads), the 15-minute Lambda ceiling, and /tmp room for a
      // full uncompressed copy of the 678 MB ratings file plus reports
      memorySize: 10_240,
      timeoutSeconds: 900,
      ephemeralStorageMiB: 2048,
      // the default taste model (k, temperature and recency chosen on a hold-out of each upload; see
      // EVALUATION.md). The seed project's algorithm is { algorithm: 'seed' } (k=15, n_init=10, …).
      params: { algorithm: 'taste', randomState: 0 },
      retryAttempts: 1,
      maxEventAgeHours: 6,
    },
    api: {
      memorySize: 1024,
      timeoutSeconds: 10,
      ephemeralStorageMiB: 512,
      provisionedConcurrency: 2,
      throttle: { rateLimit: 100, burstLimit: 200, quotaPerDay: 1_000_000 },
    },
    logLevel: 'INFO',
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    pointInTimeRecovery: true,
    lifecycle: { noncurrentVersionDays: 30, reportsDays: 180, accessLogsDays: 365 },
    alarms: { api5xxPer5Min: 1, apiP99LatencyMs: 1000, apiThrottlesPer5Min: 1 },
  },
};

/** The stage selected by `-c stage=<name>`; throws a clear error for a missing or unknown stage. */
export function resolveStage(app: { node: Node }): StageConfig {
  const raw: unknown = app.node.tryGetContext('stage');
  if (typeof raw !== 'string' || !(STAGES as readonly string[]).includes(raw)) {
    const what = raw === undefined ? 'No stage given' : `Unknown stage "${String(raw)}"`;
    throw new Error(`${what}: pass one of ${STAGES.join(', ')} with -c stage=<name> (e.g. npx cdk synth -c stage=dev).`);
  }
  return STAGE_CONFIG[raw as Stage];
}

/** The name every resource of a stage carries, e.g. `movierec-prod-api`. */
export const resourceName = (stage: Stage, suffix: string): string => `movierec-${stage}-${suffix}`;
