// Use case: an object created under uploads/ (the S3 event of the training Lambda, or the local stack's).
// A ratings file is trained and published as one new model version; movies.csv loads the movie catalogue.
// A file refused for its content (InputError: malformed, too large, below most-popular on its hold-out)
// publishes nothing and leaves reports/<key>.json — the working model keeps serving; anything else throws,
// so Lambda retries (every step is idempotent per object version). When the stage asks for it, a published
// version's batch export follows the flip (app/export.ts); its failure never unpublishes the model.
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TrainingParams, TrainingSummary } from '../core/snapshot';
import type { Movie, ReadMoviesOptions } from '../core/movies';
import type { MemoryBudget } from '../core/memory';
import type { TrainOptions, TrainOverrides, TrainResult } from '../core/train';
import { type DataReport, InputError } from '../core/types';
import type { ClusterModel } from '../core/model';
import type { Catalogue, ExportInfo, ExportStore, ModelVersions, PublishStats, RatingsSource, ReportStore, SourceRef, TrainingLease } from '../ports';
import { executionNameOf, FORCE_HINT, FORCE_METADATA, hasDotSegment, LAMBDA_MAX_MEMORY_MB, S3_PREFIXES } from '../shared/resources';
import { deleteExports, exportRecommendations } from './export';
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
  store: PublishStore & Pick<Catalogue, 'putMovies'> & Pick<ModelVersions, 'recordExport'>;
  reports: ReportStore;
  /** where a published version's batch export goes; with exportTopN > 0, every publish writes one */
  exports?: ExportStore;
  /** top-N per user of the batch export (0 or unset: none) */
  exportTopN?: number;
  params?: TrainOverrides;
  train?: TrainFn;
  readMovies?: ReadMoviesFn;
  /** the memory training has here: a file whose distinct (user, movie) pairs, users and movies would not fit
   * gets a rejection report naming the memory it needs, instead of an out-of-memory crash (core/memory.ts) */
  memory?: MemoryBudget;
  /** favourites recorded this long before a publish's fold are replayed after its flip (default 5 min) */
  replayMarginMs?: number;
  /** one training at a time across instances (absent: no coordination, as in the CLI) */
  lease?: TrainingLease;
  /** ms left in this invocation (Lambda's context.getRemainingTimeInMillis): the lease lasts that long */
  remainingMs?: () => number;
  /** between two tries of a busy lease (default 2 s) */
  leasePollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: Log;
  /** the training state machine, for uploads past this function's bound (absent: always in place) */
  distributed?: DistributedRoute;
}

/** Another training held the lease for longer than this invocation can wait: thrown, so that Lambda delivers
 * the event again later (async retries, then the DLQ and its alarm). */
export class TrainingBusyError extends Error {
  constructor(waitedMs: number) {
    super(`Another training held the training lease for ${Math.round(waitedMs / 1000)} s, longer than this invocation can wait; the event will be retried.`);
    this.name = 'TrainingBusyError';
  }
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
  /** the batch export written after the publish (when the stage writes one) */
  export?: ExportInfo;
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

/** The budget of a training Lambda with `memoryMb` of memory, in stage `stage`: a file too big for it is
 * refused naming the deploy setting that would accept it. */
export function lambdaMemoryBudget(memoryMb: number, stage: string): MemoryBudget {
  return {
    memoryMb,
    holder: `this training function (${memoryMb.toLocaleString('en-US')} MB)`,
    raise: (mb) => `deploy with -c ${stage}:trainingMemory=${mb}`,
    maxMb: LAMBDA_MAX_MEMORY_MB,
  };
}

/** The most this function trains in place (bytes of text), decided from the object's size before reading:
 * the reader's arrays peak near 2.5× the text and the matrix and clustering need about as much again, so a
 * function with M MB takes M/6 MB of text; the distributed route starts above it. (Within it, the reader's
 * own check on the distinct pairs still refuses a file that cannot fit.) */
export function inPlaceBound(deps: Pick<UploadDeps, 'memory'>): number | undefined {
  return deps.memory ? Math.floor((deps.memory.memoryMb * 2 ** 20) / 6) : undefined;
}

export const rejectionReportKey = (key: string) => `${S3_PREFIXES.reports}${key}.json`;
export const trainingReportKey = (version: string) => `${S3_PREFIXES.reports}models/${version}.json`;
const isMoviesFile = (key: string) => /^movies\.csv(\.gz)?$/i.test(path.posix.basename(key));
const quiet: Log = { info: () => undefined, warn: () => undefined };

export async function handleUpload(deps: UploadDeps, ref: SourceRef): Promise<UploadResult> {
  const { key } = ref;
  if (!key.startsWith(S3_PREFIXES.uploads)) return { key, status: 'ignored' };
  const log = deps.log ?? quiet;
  if (hasDotSegment(key)) {
    log.warn('upload ignored: its key has a "." or ".." segment; upload it under a plain name', { key });
    return { key, status: 'ignored', code: 'unsafe_key' };
  }
  const version = versionIdOf(ref);
  const sourceName = `s3://${ref.bucket}/${ref.key}`;

  const reject = (e: InputError) => rejectUpload(deps, ref, version, e, log);

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

  // a redelivery while the state machine trains this very version: it holds the lease under its name
  if (deps.distributed && deps.lease?.holder && (await deps.lease.holder()) === executionNameOf(version)) {
    log.info('the training state machine is already training this version', { key, version });
    return { key, status: 'training-started', version };
  }
  const holder = `${version}#${randomUUID()}`;
  await takeLease(deps, holder, key, log);
  try {
    return await trainAndPublish(deps, ref, version, sourceName, log, holder);
  } finally {
    await deps.lease?.release(holder);
  }
}

/**
 * Single flight: wait for the lease while another training holds it (a second upload queues behind the first,
 * as reserved concurrency 1 used to make it), for at most half of what is left of this invocation, then give
 * the event back to Lambda. The lease lasts until this invocation's deadline, so a holder that dies frees it.
 */
async function takeLease(deps: UploadDeps, holder: string, key: string, log: Log): Promise<void> {
  if (!deps.lease) return;
  const remaining = deps.remainingMs ?? (() => 15 * 60_000);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  const giveUpAfter = remaining() / 2;
  for (let tries = 0; ; tries++) {
    if (await deps.lease.acquire(holder, Date.now() + remaining() + 5_000)) {
      if (tries > 0) log.info('training lease taken after waiting', { key, waitedMs: Date.now() - started });
      return;
    }
    if (tries === 0) log.info('another training is running; waiting for the training lease', { key });
    if (Date.now() - started >= giveUpAfter) throw new TrainingBusyError(Date.now() - started);
    await sleep(deps.leasePollMs ?? 2_000);
  }
}

async function trainAndPublish(deps: UploadDeps, ref: SourceRef, version: string, sourceName: string, log: Log, holder: string): Promise<UploadResult> {
  const { key } = ref;
  const reject = (e: InputError) => rejectUpload(deps, ref, version, e, log);
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
    const started = await startDistributed(deps.distributed!, version, ref, sourceOrder, deps.params ?? {}, deps.lease ? holder : undefined);
    log.info('distributed training started', { key, version, executionArn: started.executionArn, existing: started.existing, bytes: obj.contentLength });
    return { key, status: 'training-started', version };
  }
  // ---- in place
  const t0 = Date.now();
  // a file far smaller than the live model, or scoring below most-popular, replaces it only when forced
  const active = await deps.store.activeVersion({ fresh: true });
  const activeUsers = active ? (await deps.store.versionMeta(active.version))?.users : undefined;
  const force = /^(true|1|yes)$/i.test((obj.metadata[FORCE_METADATA] ?? '').trim());
  if (force) log.warn('upload forced by its metadata: no check against the active model or most-popular', { key });
  let trained: TrainedModel;
  try {
    // no refusal from the object's size alone: memory follows the distinct pairs, which only reading finds
    const train = deps.train ?? (async (s, p, o) => (await import('../core/train')).trainModel(s, p, o));
    trained = await train(obj.stream, deps.params ?? {}, {
      sourceName,
      memory: deps.memory,
      totalBytes: obj.contentLength,
      activeUsers,
      force,
      forceHint: FORCE_HINT,
    });
  } catch (e) {
    if (e instanceof InputError) return reject(e);
    throw e;
  }
  const trainSeconds = (Date.now() - t0) / 1000;
  const reportKey = trainingReportKey(version);
  const { model, params, data: d, training } = trained;
  const trainedVersion: TrainedVersion = { version, source: ref, createdAt: trained.snapshot.createdAt, params, data: d, training, clusters: model.clusters, trainSeconds, reportKey };
  await deps.reports.putJson(reportKey, { ...trainingReport(trainedVersion), ...(force ? { forced: true } : {}) });
  const summary = { ...versionSummary(trainedVersion), ...(force ? { forced: true } : {}) };
  const res = await publishModel(deps.store, model, version, ref, { sourceOrder, summary, replayMarginMs: deps.replayMarginMs });
  log.info('publish finished', { key, version, status: res.status, active: res.active, stats: res.stats });
  const exported = res.status === 'published' ? await exportAfterPublish(deps, log, model, version, res.expired ?? []) : undefined;
  return { key, status: res.status, version, reportKey, stats: res.stats, ...(exported ? { export: exported } : {}) };
}

/** The stage's batch export of a version that just went live, and the removal of the exports of versions the
 * publish deleted. Never throws: the model is live whatever happens here. */
async function exportAfterPublish(deps: UploadDeps, log: Log, model: ClusterModel, version: string, expired: string[]): Promise<ExportInfo | undefined> {
  const topN = deps.exportTopN ?? 0;
  if (!deps.exports || !(topN > 0)) return undefined;
  const info = await exportRecommendations({ exports: deps.exports, store: deps.store }, model, version, topN);
  if (info.state === 'failed') log.warn('batch export failed; the model stays live', { version, key: info.key, reason: info.message });
  else log.info('batch export written', { version, key: info.key, users: info.users, rows: info.rows, bytes: info.bytes });
  try {
    await deleteExports(deps.exports, expired);
  } catch (e) {
    log.warn('could not delete the exports of deleted versions', { versions: expired, reason: (e as Error)?.message });
  }
  return info;
}

async function rejectUpload(deps: UploadDeps, ref: SourceRef, version: string, e: InputError, log: Log): Promise<UploadResult> {
  const reportKey = rejectionReportKey(ref.key);
  await deps.reports.putJson(reportKey, {
    status: 'rejected',
    source: ref,
    version,
    reason: { code: e.code, message: e.message },
    report: (e.details as { report?: unknown } | undefined)?.report ?? null,
    at: new Date().toISOString(),
  });
  log.warn('upload refused', { key: ref.key, code: e.code, reason: e.message, reportKey });
  return { key: ref.key, status: 'rejected', version, reportKey, code: e.code };
}

/** A trained version, what its training report and its metadata summary are made of (the single function's
 * training and the state machine's Check step write both from it). */
export interface TrainedVersion {
  version: string;
  source: SourceRef;
  createdAt: string;
  params: unknown;
  data: DataReport;
  training: TrainingSummary;
  clusters: ReadonlyArray<{ id: number; size: number; movieIds: readonly number[] }>;
  trainSeconds: number;
  reportKey: string;
}

/** The training report (reports/models/<version>.json). */
export function trainingReport(t: TrainedVersion): Record<string, unknown> {
  return {
    status: 'trained',
    version: t.version,
    source: t.source,
    createdAt: t.createdAt,
    params: t.params,
    data: t.data,
    training: t.training,
    clusters: t.clusters.map((c) => ({ id: c.id, size: c.size, movies: c.movieIds.length })),
    trainSeconds: t.trainSeconds,
  };
}

/** The summary the version's metadata carries (GET /models/active shows it). */
export function versionSummary(t: TrainedVersion): Record<string, unknown> {
  const d = t.data;
  return {
    params: t.params,
    data: { rowsRead: d.rowsRead, rowsAccepted: d.rowsAccepted, rowsRejected: d.rowsRejected, users: d.users, movies: d.movies, interactions: d.interactions },
    inertia: t.training.inertia,
    iterations: t.training.iterations,
    dissolvedClusters: t.training.fix.dissolved,
    trainSeconds: t.trainSeconds,
    reportKey: t.reportKey,
  };
}
