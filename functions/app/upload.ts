// Use case: an object created under uploads/ (the S3 event of the training Lambda, or the local stack's).
// A ratings file is trained and published as one new model version; movies.csv loads the movie catalogue.
// A file refused for its content (InputError: malformed, too large, below most-popular on its hold-out)
// publishes nothing and leaves reports/<key>.json — the working model keeps serving; anything else throws,
// so Lambda retries (every step is idempotent per object version).
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { TrainingParams } from '../core/snapshot';
import type { Movie, ReadMoviesOptions } from '../core/movies';
import type { TrainOptions, TrainOverrides, TrainResult } from '../core/train';
import { InputError } from '../core/types';
import type { Catalogue, PublishStats, RatingsSource, ReportStore, SourceRef } from '../ports';
import { S3_PREFIXES } from '../shared/resources';
import { publishModel, type PublishStore } from './publish';
import { type DistributedRoute, shouldDistribute, startDistributed } from './distributed/route';

/** What publishing needs of a training run (core trainModel's result has more). */
export type TrainedModel = Pick<TrainResult, 'model' | 'data' | 'training' | 'snapshot'> & { params: TrainingParams };
export type TrainFn = (source: NodeJS.ReadableStream | string, params: TrainOverrides, opts?: TrainOptions) => Promise<TrainedModel>;
export type ReadMoviesFn = (source: NodeJS.ReadableStream, opts?: ReadMoviesOptions) => Promise<Map<number, Movie>>;

/** What the use case logs through (Powertools' Logger fits). */
export interface Log {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any structured fields (Powertools' LogAttributes)
  info(message: string, extra?: Record<string, any>): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  warn(message: string, extra?: Record<string, any>): void;
}

export interface UploadDeps {
  source: RatingsSource;
  store: PublishStore & Pick<Catalogue, 'putMovies'>;
  reports: ReportStore;
  params?: TrainOverrides;
  train?: TrainFn;
  readMovies?: ReadMoviesFn;
  /** refuse uploads whose (decompressed) text exceeds this many bytes — a gzip bomb or a file too big for
   * this function's memory gets a rejection report instead of an out-of-memory crash (see maxInputBytesFor) */
  maxInputBytes?: number;
  /** favourites recorded this long before a publish's fold are replayed after its flip (default 5 min) */
  replayMarginMs?: number;
  log?: Log;
  /** the training state machine, for uploads past this function's bound (absent: always in place) */
  distributed?: DistributedRoute;
}

export type UploadStatus =
  | 'published'
  | 'already-published'
  | 'stale'
  | 'rejected'
  | 'ignored'
  | 'superseded'
  | 'movies-loaded'
  | 'training-started';

export interface UploadResult {
  key: string;
  status: UploadStatus;
  version?: string;
  reportKey?: string;
  /** the reason of a rejection */
  code?: string;
  /** a publish's write statistics */
  stats?: PublishStats;
}

/** The model version id of an object: a hash of its identity, so a redelivered event maps to the same version. */
export function versionIdOf(ref: Pick<SourceRef, 'bucket' | 'key' | 'versionId' | 'etag' | 'sequencer'>): string {
  const identity = ref.versionId || ref.etag || ref.sequencer || '';
  return createHash('sha256').update(`${ref.bucket}\n${ref.key}\n${identity}`).digest('hex').slice(0, 16);
}

/** Deterministic ordering key of a source object: event time (ms, ISO) then the S3 sequencer (same-key order). */
export function sourceOrderOf(ref: { eventTime?: string; sequencer?: string }, fallbackTime?: string): string {
  const t = ref.eventTime ?? fallbackTime;
  const iso = t && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : '0000-00-00T00:00:00.000Z';
  return `${iso}#${(ref.sequencer ?? '').toUpperCase().padStart(32, '0')}`;
}

/** Parsing holds ≤ 8 bytes per accepted row and a row takes ≥ 4 bytes of text ("1,2\n"), so the reader's
 * arrays (with their growth) peak near 2.5× the text size, and the matrix and clustering need about as much
 * again: a function with M MB of memory is given M/6 MB of (decompressed) text. */
export function maxInputBytesFor(memoryMb: number): number {
  return Math.floor((memoryMb * 2 ** 20) / 6);
}

/** The most this function trains in place (bytes of text): the distributed route starts above it. */
export function inPlaceBound(deps: Pick<UploadDeps, 'maxInputBytes'>): number | undefined {
  return deps.maxInputBytes;
}

export const rejectionReportKey = (key: string) => `${S3_PREFIXES.reports}${key}.json`;
export const trainingReportKey = (version: string) => `${S3_PREFIXES.reports}models/${version}.json`;
const isMoviesFile = (key: string) => /^movies\.csv(\.gz)?$/i.test(path.posix.basename(key));
const quiet: Log = { info: () => undefined, warn: () => undefined };

export async function handleUpload(deps: UploadDeps, ref: SourceRef): Promise<UploadResult> {
  const { key } = ref;
  if (!key.startsWith(S3_PREFIXES.uploads)) return { key, status: 'ignored' };
  const log = deps.log ?? quiet;
  const version = versionIdOf(ref);
  const sourceName = `s3://${ref.bucket}/${ref.key}`;

  const reject = async (e: InputError): Promise<UploadResult> => {
    const reportKey = rejectionReportKey(key);
    await deps.reports.putJson(reportKey, {
      status: 'rejected',
      source: ref,
      version,
      reason: { code: e.code, message: e.message },
      report: (e.details as { report?: unknown } | undefined)?.report ?? null,
      at: new Date().toISOString(),
    });
    log.warn('upload refused', { key, code: e.code, reason: e.message, reportKey });
    return { key, status: 'rejected', version, reportKey, code: e.code };
  };

  if (isMoviesFile(key)) {
    const obj = await deps.source.open(ref);
    if (!obj) return { key, status: 'superseded' };
    const readMovies = deps.readMovies ?? (async (s, o) => (await import('../core/movies')).readMovies(s, o));
    let movies: Map<number, Movie>;
    try {
      movies = await readMovies(obj.stream, { sourceName });
    } catch (e) {
      if (e instanceof InputError) return reject(e);
      throw e;
    }
    const list = [...movies].map(([movieId, m]) => ({ movieId, title: m.title, genres: m.genres }));
    await deps.store.putMovies(list, version);
    log.info('movie catalogue loaded', { key, movies: list.length });
    return { key, status: 'movies-loaded', version };
  }

  // decided before training (cheap) and again right before anything is written (publishModel)
  const sourceOrder = sourceOrderOf(ref);
  const pre = await deps.store.checkPublishable(version, sourceOrder);
  if (pre !== 'ok') {
    log.info('nothing to publish', { key, version, status: pre });
    return { key, status: pre, version };
  }
  const obj = await deps.source.open(ref);
  if (!obj) {
    log.info('object gone or overwritten since the event; its own event covers it', { key });
    return { key, status: 'superseded', version };
  }
  // ---- past this function's bound (or forced by the stage): the training state machine instead
  if (shouldDistribute(deps.distributed, obj.contentLength, inPlaceBound(deps))) {
    (obj.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    const started = await startDistributed(deps.distributed!, version, ref, sourceOrder, deps.params ?? {});
    log.info('distributed training started', { key, version, executionArn: started.executionArn, existing: started.existing, bytes: obj.contentLength });
    return { key, status: 'training-started', version };
  }
  // ---- in place
  const t0 = Date.now();
  let trained: TrainedModel;
  try {
    if (deps.maxInputBytes !== undefined && obj.contentLength !== undefined && obj.contentLength > deps.maxInputBytes) {
      (obj.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new InputError(
        'too_large',
        `${sourceName}: the object is ${obj.contentLength} bytes, more than the ${deps.maxInputBytes} bytes this training function can hold in memory; split the file or give the function more memory.`,
      );
    }
    const train = deps.train ?? (async (s, p, o) => (await import('../core/train')).trainModel(s, p, o));
    trained = await train(obj.stream, deps.params ?? {}, { sourceName, maxBytes: deps.maxInputBytes });
  } catch (e) {
    if (e instanceof InputError) return reject(e);
    throw e;
  }
  const trainSeconds = (Date.now() - t0) / 1000;
  const reportKey = trainingReportKey(version);
  const { model, params, data: d, training } = trained;
  await deps.reports.putJson(reportKey, {
    status: 'trained',
    version,
    source: ref,
    createdAt: trained.snapshot.createdAt,
    params,
    data: d,
    training,
    clusters: model.clusters.map((c) => ({ id: c.id, size: c.size, movies: c.movieIds.length })),
    trainSeconds,
  });
  const summary = {
    params,
    data: { rowsRead: d.rowsRead, rowsAccepted: d.rowsAccepted, rowsRejected: d.rowsRejected, users: d.users, movies: d.movies, interactions: d.interactions },
    inertia: training.inertia,
    iterations: training.iterations,
    dissolvedClusters: training.fix.dissolved,
    trainSeconds,
    reportKey,
  };
  const res = await publishModel(deps.store, model, version, ref, { sourceOrder, summary, replayMarginMs: deps.replayMarginMs });
  log.info('publish finished', { key, version, status: res.status, active: res.active, stats: res.stats });
  return { key, status: res.status, version, reportKey, stats: res.stats };
}
