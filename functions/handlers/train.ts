// The training Lambda: S3 ObjectCreated events under uploads/ → the upload use case (train and publish one
// model version, or load the movie catalogue), one record at a time. A refused file is a normal outcome (a
// report, a metric); anything thrown makes Lambda retry, then the DLQ (the use case is idempotent per object).
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { SEED_PARAMS } from '../core/snapshot';
import type { TrainOverrides } from '../core/train';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient, makeS3Client } from '../adapters/aws';
import { DynamoModelStore } from '../adapters/dynamo/store';
import { S3ExportStore, S3RatingsSource, S3ReportStore } from '../adapters/s3';
import { handleUpload, lambdaMemoryBudget, type UploadDeps, type UploadResult } from '../app/upload';
import type { SourceRef } from '../ports';
import { bucketName, ENV, HANDLER_METRICS, tableNames } from '../shared/resources';
import { distributedRouteFromEnv } from './train-steps';
import { observability } from './observability';

export interface TrainDeps extends Omit<UploadDeps, 'log'> {
  logger?: Logger;
  metrics?: Metrics;
}

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/** The object an S3 event record names. */
export function sourceRefOf(record: S3EventRecord): SourceRef {
  return {
    bucket: record.s3.bucket.name,
    key: decodeS3Key(record.s3.object.key),
    versionId: record.s3.object.versionId || undefined,
    etag: record.s3.object.eTag?.replace(/"/g, '') || undefined,
    sequencer: record.s3.object.sequencer || undefined,
    eventTime: record.eventTime,
  };
}

export function makeHandler(deps: TrainDeps) {
  const { logger, metrics } = deps.logger && deps.metrics ? { logger: deps.logger, metrics: deps.metrics } : observability('train');
  const base = async (event: S3Event, context: Context): Promise<{ results: UploadResult[] }> => {
    const results: UploadResult[] = [];
    for (const record of event.Records ?? []) {
      try {
        const log = { info: (m: string, e?: object) => logger.info(m, { ...e }), warn: (m: string, e?: object) => logger.warn(m, { ...e }) };
        const r = await handleUpload({ ...deps, log, remainingMs: () => context.getRemainingTimeInMillis() }, sourceRefOf(record));
        if (r.status === 'rejected') metrics.addMetric(HANDLER_METRICS.uploadsRejected, MetricUnit.Count, 1);
        if (r.stats) {
          metrics.addMetric(HANDLER_METRICS.publishSeconds, MetricUnit.Seconds, r.stats.seconds);
          metrics.addMetric('publishItems', MetricUnit.Count, r.stats.items);
        }
        if (r.export?.state === 'failed') metrics.addMetric(HANDLER_METRICS.exportsFailed, MetricUnit.Count, 1);
        results.push(r);
      } catch (e) {
        // reported here (structured, with the key) and rethrown: Lambda retries, then the DLQ and its alarm
        logger.error('training failed; Lambda will retry (the publish is idempotent per object version)', {
          key: record.s3?.object?.key,
          error: e as Error,
        });
        throw e;
      }
    }
    return { results };
  };
  return middy<S3Event, { results: UploadResult[] }>(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** TRAINING_PARAMS (JSON) → parameter overrides; a bad value fails the cold start loudly. */
export function paramsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainOverrides {
  const raw = env[ENV.trainingParams];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${ENV.trainingParams} is not valid JSON: ${raw.slice(0, 200)}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${ENV.trainingParams} must be a JSON object of training parameters.`);
  }
  const unknown = Object.keys(parsed).filter((k) => !(k in SEED_PARAMS) && k !== 'algorithm' && k !== 'taste');
  if (unknown.length) throw new Error(`${ENV.trainingParams} has unknown parameter(s): ${unknown.join(', ')}.`);
  return parsed as TrainOverrides;
}

/** EXPORT_TOP_N → the batch export's top-N (0: none); a bad value fails the cold start loudly. */
export function exportTopNFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[ENV.exportTopN] || '0';
  if (!/^\d{1,4}$/.test(raw) || Number(raw) > 1000) throw new Error(`${ENV.exportTopN} must be an integer from 0 to 1000, got "${raw}".`);
  return Number(raw);
}

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const s3 = makeS3Client(awsConfigFromEnv(ENV.s3Endpoint, env));
  const doc = makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env)));
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const bucket = env[ENV.bucket] ?? bucketName(stage);
  const store = new DynamoModelStore({
    doc,
    usersTable: env[ENV.usersTable] ?? names.users,
    clustersTable: env[ENV.clustersTable] ?? names.clusters,
    pointerTtlMs: 0,
  });
  const distributed = distributedRouteFromEnv(env, doc, names.clusters, store.lease);
  return {
    ...(distributed ? { distributed } : {}),
    source: new S3RatingsSource(s3),
    reports: new S3ReportStore(s3, bucket),
    exports: new S3ExportStore(s3, bucket),
    exportTopN: exportTopNFromEnv(env),
    store,
    lease: store.lease,
    params: paramsFromEnv(env),
    // set by Lambda (the local stack sets it too, to the memory its training process has)
    memory: memoryMb > 0 ? lambdaMemoryBudget(memoryMb, stage) : undefined,
  };
}

let cold: ReturnType<typeof makeHandler> | null = null;
/** Built on the first invocation (once per cold start), so importing this module has no side effects. */
export const handler = (event: S3Event, context: Context) => (cold ??= makeHandler(depsFromEnv()))(event, context);
