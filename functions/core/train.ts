// The one training pipeline, shared by the training Lambda and the CLI. Pure: the caller supplies the stream.
//   parse (readRatings) → matrix (buildMatrix, data report) → recommender (trainRecommender: seed or taste)
//   → hold-out check (holdoutCheck on a sample; the one publishability verdict) → model + snapshot
import { kmeans, releaseEngineMemory } from './kmeans';
import { buildMatrix, fillReport } from './matrix';
import { ClusterModel } from './model';
import { ModelSnapshot, toSnapshot, TrainingParams, TrainingSummary } from './snapshot';
import {
  assertPublishable,
  CHECK_MAX_USERS,
  cellTimes,
  holdoutCheck,
  HoldoutCheckOptions,
  HoldoutReport,
  RecommenderOverrides,
  RecommenderParams,
  RecommenderResult,
  resolveParams,
  sampleUsers,
  trainRecommender,
} from './recommender';
import { readRatings } from './ratings';
import { CsrMatrix, DataReport, InputError, KMeansEngine, KMeansProgress, RatingsFormat } from './types';

export type TrainPhase = 'parse' | 'matrix' | 'cluster';

export interface TrainProgress {
  phase: TrainPhase;
  /** what the clustering phase is doing (validation candidate, ensemble member, hold-out check) */
  step?: string;
  /** present during clustering */
  kmeans?: KMeansProgress;
}

export interface TrainOptions {
  format?: 'auto' | RatingsFormat;
  maxRejectedShare?: number;
  /** refuse input whose (decompressed) text exceeds this many bytes (reader default otherwise) */
  maxBytes?: number;
  /** name used in error messages (file path or s3 key) */
  sourceName?: string;
  threads?: number;
  /** run the hold-out check against most-popular before returning (default true) */
  check?: boolean;
  /** return the model even when it scores below most-popular on its hold-out (the report says so) */
  allowBelowPopular?: boolean;
  /** interactions above which the cheaper large-data settings apply (default LARGE_DATA_NNZ) */
  largeDataNnz?: number;
  onProgress?: (p: TrainProgress) => void;
}

/** What a caller may set: the K-means parameters, the algorithm ('taste' by default, 'seed' for the
 * seed project's algorithm) and the taste model's settings. */
export type TrainOverrides = RecommenderOverrides;

export interface TrainResult {
  /** the servable model; a publish takes it over (folds favourites into it) */
  model: ClusterModel;
  /** the parameters actually used */
  params: RecommenderParams;
  data: DataReport;
  training: TrainingSummary;
  /** the versioned document of this model (the CLI writes it; it shares the model's arrays) */
  snapshot: ModelSnapshot;
  matrix: CsrMatrix;
}

/** Restarts are the dominant cost on very large inputs; when the caller did not choose nInit, huge data
 * gets fewer restarts (each already sees millions of points, so restarts vary little). */
export const LARGE_DATA_NNZ = 5_000_000;
export const LARGE_DATA_N_INIT = 3;
/** The taste model on huge data: one restart per clustering and at most this many Lloyd iterations.
 * Measured on the 25M synthetic set at k=80 (unit rows): inertia 134,539 after 2 iterations, 134,179
 * after 5, 134,001 after 227 — sklearn's tol never triggers on unit rows, so the tail costs minutes
 * (about 1 s per iteration) for a 0.1% change; 30 iterations keep a 25M training well inside Lambda's 15 min. */
export const LARGE_DATA_TASTE_N_INIT = 1;
export const LARGE_DATA_TASTE_MAX_ITER = 30;

export async function loadEngine(name: TrainingParams['engine']): Promise<KMeansEngine> {
  if (name === 'ml-kmeans') return (await import('./kmeans/ml-kmeans')).kmeansMl;
  return kmeans;
}

export async function trainModel(
  source: NodeJS.ReadableStream | string,
  overrides: TrainOverrides = {},
  opts: TrainOptions = {},
): Promise<TrainResult> {
  // resolve and validate every parameter before reading a byte
  const given = stripUndefined(overrides) as RecommenderOverrides;
  const resolved = resolveParams(given);
  const seconds: Record<string, number> = {};
  const progress = opts.onProgress ?? (() => {});
  let t = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    seconds[phase] = (now - t) / 1000;
    t = now;
  };

  progress({ phase: 'parse' });
  const { interactions, report } = await readRatings(source, {
    format: opts.format ?? 'auto',
    maxRejectedShare: opts.maxRejectedShare,
    maxBytes: opts.maxBytes,
    sourceName: opts.sourceName,
    // the taste model weights recent movies when placing users; the seed algorithm needs no timestamps
    withTimestamps: resolved.algorithm === 'taste',
  });
  lap('parse');

  progress({ phase: 'matrix' });
  const { matrix, duplicatesCollapsed } = buildMatrix(interactions);
  fillReport(report, matrix, duplicatesCollapsed);
  const times = resolved.algorithm === 'taste' ? cellTimes(interactions, matrix) : undefined;
  lap('matrix');

  assertEnoughUsers(resolved, matrix.nRows, opts.sourceName, report);
  const { params, notes } = largeDataParams(given, resolved, matrix.indptr[matrix.nRows], opts.largeDataNnz ?? LARGE_DATA_NNZ);

  progress({ phase: 'cluster' });
  let trained: Awaited<ReturnType<typeof trainChecked>>;
  try {
    trained = await trainChecked(matrix, params, {
      engine: await loadEngine(resolved.engine),
      threads: opts.threads,
      times,
      check: opts.check ?? true,
      allowBelowPopular: opts.allowBelowPopular,
      onProgress: (p) => progress({ phase: 'cluster', step: p.step, kmeans: p.kmeans }),
    });
  } catch (e) {
    // a refused model carries the data report too, so the caller can write one complete report
    if (e instanceof InputError) throw new InputError(e.code, e.message, { ...e.details, report });
    throw e;
  } finally {
    // clustering is over: its memory must not sit under the model write
    releaseEngineMemory();
  }

  const training = trained.training;
  training.seconds = { ...seconds, ...training.seconds };
  training.notes = [...notes, ...(training.notes ?? [])];
  const snapshot = toSnapshot(trained.model, { params: trained.params, data: report, training });
  return { model: trained.model, params: trained.params, data: report, training, snapshot, matrix };
}

/** The seed algorithm needs at least k users (the taste model lowers its k instead). */
export function assertEnoughUsers(resolved: RecommenderParams, users: number, sourceName: string | undefined, report: DataReport): void {
  if (resolved.algorithm === 'seed' && resolved.k > users) {
    throw new InputError(
      'too_few_users',
      `${sourceName ?? 'the ratings file'} has ${users} users, fewer than k=${resolved.k} clusters; use a smaller --k.`,
      { report },
    );
  }
}

/** Huge inputs get fewer restarts (and, for the taste model, fewer Lloyd iterations) unless the caller
 * chose them; every adjustment is reported in plain words. */
export function largeDataParams(
  given: RecommenderOverrides,
  resolved: RecommenderParams,
  nnz: number,
  large: number,
): { params: RecommenderOverrides; notes: string[] } {
  const params: RecommenderOverrides = { ...given };
  const notes: string[] = [];
  if (nnz <= large) return { params, notes };
  const taste = resolved.algorithm === 'taste';
  const nInit = taste ? LARGE_DATA_TASTE_N_INIT : LARGE_DATA_N_INIT;
  if (given.nInit === undefined && resolved.nInit > nInit) {
    notes.push(`nInit lowered from ${resolved.nInit} to ${nInit}: ${nnz} interactions exceed ${large}; set nInit explicitly to override.`);
    params.nInit = nInit;
  }
  if (taste && given.maxIter === undefined && resolved.maxIter > LARGE_DATA_TASTE_MAX_ITER) {
    notes.push(
      `maxIter lowered from ${resolved.maxIter} to ${LARGE_DATA_TASTE_MAX_ITER}: ${nnz} interactions exceed ${large} (inertia changes < 0.5% after that); set maxIter explicitly to override.`,
    );
    params.maxIter = LARGE_DATA_TASTE_MAX_ITER;
  }
  return { params, notes };
}

export interface TrainCheckedOptions extends HoldoutCheckOptions {
  /** run the hold-out check (default true) */
  check?: boolean;
  /** publish even when the check fails (the report still says so) */
  allowBelowPopular?: boolean;
  /** the check trains on at most this many users (a seeded sample; default CHECK_MAX_USERS) */
  maxCheckUsers?: number;
}

/**
 * What training runs before publishing: trainRecommender, then holdoutCheck with the same settings;
 * the report is stored as training.holdout. Throws InputError 'below_popular' (report in details)
 * when the check fails and allowBelowPopular is not set.
 */
export async function trainChecked(
  x: CsrMatrix,
  overrides: RecommenderOverrides = {},
  opts: TrainCheckedOptions = {},
): Promise<RecommenderResult & { holdout: HoldoutReport | null }> {
  const res = await trainRecommender(x, overrides, opts);
  if (opts.check === false) return { ...res, holdout: null };
  const t = performance.now();
  const maxUsers = opts.maxCheckUsers ?? CHECK_MAX_USERS;
  const sample = sampleUsers(x, opts.times, maxUsers, res.params.randomState);
  const holdout = await holdoutCheck(sample.x, res.params, { ...opts, times: sample.times });
  if (sample.x !== x) holdout.reason += ` (a random sample of ${maxUsers} of ${x.nRows} users)`;
  res.training.seconds.check = (performance.now() - t) / 1000;
  res.training.holdout = holdout;
  assertPublishable(holdout, opts);
  return { ...res, holdout };
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
