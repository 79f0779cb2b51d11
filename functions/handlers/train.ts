// The training Lambda: S3 ObjectCreated events on uploads/ → train → publish one model version.
// A malformed file publishes nothing and leaves reports/<key>.json (no retry); a transient failure throws so
// Lambda retries (the publish is idempotent per S3 object version). movies.csv loads the movie catalogue.
import { createHash } from 'node:crypto';
import path from 'node:path';
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { ModelSnapshot, SEED_PARAMS, TrainingParams } from '../core/model';
import type { Movie, ReadMoviesOptions } from '../core/movies';
import type { TrainOptions, TrainOverrides } from '../core/train';
import { InputError } from '../core/types';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient, makeS3Client } from '../adapters/aws';
import { DynamoModelStore } from '../adapters/dynamo-model-store';
import { sourceOrderOf } from '../adapters/dynamo-layout';
import { S3RatingsSource, S3ReportStore } from '../adapters/s3';
import type { ModelStore, RatingsSource, ReportStore, SourceRef } from '../ports';
import { bucketName, ENV, S3_PREFIXES, tableNames } from '../shared/resources';

export type TrainFn = (
  source: NodeJS.ReadableStream | string,
  params: TrainOverrides,
  opts?: TrainOptions,
) => Promise<{ snapshot: ModelSnapshot }>;
export type ReadMoviesFn = (source: NodeJS.ReadableStream, opts?: ReadMoviesOptions) => Promise<Map<number, Movie>>;

export interface TrainDeps {
  source: RatingsSource;
  store: ModelStore;
  reports: ReportStore;
  params?: Partial<TrainingParams>;
  train?: TrainFn;
  readMovies?: ReadMoviesFn;
  /** refuse uploads whose (decompressed) text exceeds this many bytes — a gzip bomb or a file too big for
   * this function's memory gets a rejection report instead of an out-of-memory crash (see maxInputBytesFor) */
  maxInputBytes?: number;
  logger?: Logger;
  metrics?: Metrics;
}

export type RecordStatus =
  | 'published'
  | 'already-published'
  | 'stale'
  | 'rejected'
  | 'ignored'
  | 'superseded'
  | 'movies-loaded';

export interface RecordResult {
  key: string;
  status: RecordStatus;
  version?: string;
  reportKey?: string;
}

/** S3 event keys are URL-encoded with `+` for spaces. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/** The model version id of an object: a hash of its identity, so a redelivered event maps to the same version. */
export function versionIdOf(ref: Pick<SourceRef, 'bucket' | 'key' | 'versionId' | 'etag' | 'sequencer'>): string {
  const identity = ref.versionId || ref.etag || ref.sequencer || '';
  return createHash('sha256').update(`${ref.bucket}\n${ref.key}\n${identity}`).digest('hex').slice(0, 16);
}

/** Parsing holds ≤ 8 bytes per accepted row and a row takes ≥ 4 bytes of text ("1,2\n"), so the reader's
 * arrays (with their growth) peak near 2.5× the text size, and the matrix and clustering need about as much
 * again: a function with M MB of memory is given M/6 MB of (decompressed) text. */
export function maxInputBytesFor(memoryMb: number): number {
  return Math.floor((memoryMb * 2 ** 20) / 6);
}

export const rejectionReportKey = (key: string) => `${S3_PREFIXES.reports}${key}.json`;
export const trainingReportKey = (version: string) => `${S3_PREFIXES.reports}models/${version}.json`;
const isMoviesFile = (key: string) => /^movies\.csv(\.gz)?$/i.test(path.posix.basename(key));

export function makeHandler(deps: TrainDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'movierec-train' });
  const metrics = deps.metrics ?? new Metrics({ namespace: 'movierec', serviceName: 'movierec-train' });
  const params = deps.params ?? {};
  const train: TrainFn = deps.train ?? (async (s, p, o) => (await import('../core/train')).trainModel(s, p, o));
  const readMovies: ReadMoviesFn = deps.readMovies ?? (async (s, o) => (await import('../core/movies')).readMovies(s, o));

  const reject = async (ref: SourceRef, e: InputError, version: string): Promise<RecordResult> => {
    const reportKey = rejectionReportKey(ref.key);
    await deps.reports.putJson(reportKey, {
      status: 'rejected',
      source: ref,
      version,
      reason: { code: e.code, message: e.message },
      report: (e.details as { report?: unknown } | undefined)?.report ?? null,
      at: new Date().toISOString(),
    });
    logger.warn('upload refused', { key: ref.key, code: e.code, reason: e.message, reportKey });
    metrics.addMetric('uploadsRejected', MetricUnit.Count, 1);
    return { key: ref.key, status: 'rejected', version, reportKey };
  };

  const processRecord = async (record: S3EventRecord): Promise<RecordResult> => {
    const key = decodeS3Key(record.s3.object.key);
    if (!key.startsWith(S3_PREFIXES.uploads)) return { key, status: 'ignored' };
    const ref: SourceRef = {
      bucket: record.s3.bucket.name,
      key,
      versionId: record.s3.object.versionId || undefined,
      etag: record.s3.object.eTag?.replace(/"/g, '') || undefined,
      sequencer: record.s3.object.sequencer || undefined,
      eventTime: record.eventTime,
    };
    const version = versionIdOf(ref);
    const sourceName = `s3://${ref.bucket}/${ref.key}`;

    if (isMoviesFile(key)) {
      const obj = await deps.source.open(ref);
      if (!obj) return { key, status: 'superseded' };
      let movies: Map<number, Movie>;
      try {
        movies = await readMovies(obj.stream, { sourceName });
      } catch (e) {
        if (e instanceof InputError) return reject(ref, e, version);
        throw e;
      }
      const list = [...movies].map(([movieId, m]) => ({ movieId, title: m.title, genres: m.genres }));
      await deps.store.putMovies(list, version);
      logger.info('movie catalogue loaded', { key, movies: list.length });
      return { key, status: 'movies-loaded', version };
    }

    const sourceOrder = sourceOrderOf(ref);
    const pre = await deps.store.checkPublishable(version, sourceOrder);
    if (pre !== 'ok') {
      logger.info('nothing to publish', { key, version, status: pre });
      return { key, status: pre, version };
    }
    const obj = await deps.source.open(ref);
    if (!obj) {
      logger.info('object gone or overwritten since the event; its own event covers it', { key });
      return { key, status: 'superseded', version };
    }
    const t0 = Date.now();
    let snapshot: ModelSnapshot;
    try {
      if (deps.maxInputBytes !== undefined && obj.contentLength !== undefined && obj.contentLength > deps.maxInputBytes) {
        (obj.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        throw new InputError(
          'too_large',
          `${sourceName}: the object is ${obj.contentLength} bytes, more than the ${deps.maxInputBytes} bytes this training function can hold in memory; split the file or give the function more memory.`,
        );
      }
      ({ snapshot } = await train(obj.stream, params, { sourceName, maxBytes: deps.maxInputBytes }));
    } catch (e) {
      if (e instanceof InputError) return reject(ref, e, version);
      throw e;
    }
    const trainSeconds = (Date.now() - t0) / 1000;
    const reportKey = trainingReportKey(version);
    const clusters = snapshot.clusters.map((c) => ({ id: c.id, size: c.size, movies: c.movieIds.length }));
    await deps.reports.putJson(reportKey, {
      status: 'trained',
      version,
      source: ref,
      createdAt: snapshot.createdAt,
      params: snapshot.params,
      data: snapshot.data,
      training: snapshot.training,
      clusters,
      trainSeconds,
    });
    const d = snapshot.data;
    const summary = {
      params: snapshot.params,
      data: { rowsRead: d.rowsRead, rowsAccepted: d.rowsAccepted, rowsRejected: d.rowsRejected, users: d.users, movies: d.movies, interactions: d.interactions },
      inertia: snapshot.training.inertia,
      iterations: snapshot.training.iterations,
      dissolvedClusters: snapshot.training.fix.dissolved,
      trainSeconds,
      reportKey,
    };
    const res = await deps.store.publishVersion(snapshot, version, ref, { sourceOrder, summary });
    logger.info('publish finished', { key, version, status: res.status, active: res.active, stats: res.stats });
    if (res.stats) {
      metrics.addMetric('publishSeconds', MetricUnit.Seconds, res.stats.seconds);
      metrics.addMetric('publishItems', MetricUnit.Count, res.stats.items);
    }
    return { key, status: res.status, version, reportKey };
  };

  const base = async (event: S3Event): Promise<{ results: RecordResult[] }> => {
    const results: RecordResult[] = [];
    for (const record of event.Records ?? []) {
      try {
        results.push(await processRecord(record));
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

  return middy<S3Event, { results: RecordResult[] }>(base).use(injectLambdaContext(logger)).use(logMetrics(metrics));
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

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const s3 = makeS3Client(awsConfigFromEnv(ENV.s3Endpoint, env));
  const doc = makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env)));
  return {
    source: new S3RatingsSource(s3),
    reports: new S3ReportStore(s3, env[ENV.bucket] ?? bucketName(stage)),
    store: new DynamoModelStore({
      doc,
      usersTable: env[ENV.usersTable] ?? names.users,
      clustersTable: env[ENV.clustersTable] ?? names.clusters,
      pointerTtlMs: 0,
    }),
    params: paramsFromEnv(env),
    // set by Lambda; absent locally (the reader's own limit applies)
    maxInputBytes: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) > 0 ? maxInputBytesFor(Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE)) : undefined,
  };
}

let cold: ReturnType<typeof makeHandler> | null = null;
/** Built on the first invocation (once per cold start), so importing this module has no side effects. */
export const handler = (event: S3Event, context: Context) => (cold ??= makeHandler(depsFromEnv()))(event, context);
