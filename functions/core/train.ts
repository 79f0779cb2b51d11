// The training pipeline: ratings stream → data report → sparse matrix → K-means → seed model → snapshot.
// Shared by the CLI and the training Lambda. Pure: the caller supplies the stream.
import { kmeans, releaseEngineMemory } from './kmeans';
import { buildMatrix, fillReport } from './matrix';
import { ModelSnapshot, SeedModel, toSnapshot, TrainingParams } from './model';
import { cellTimes, RecommenderOverrides, RecommenderParams, resolveParams, trainChecked } from './recommender';
import { readRatings } from './ratings';
import { CsrMatrix, InputError, KMeansEngine, KMeansProgress, RatingsFormat } from './types';

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
  snapshot: ModelSnapshot;
  model: SeedModel;
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

export function validateParams(p: TrainingParams | RecommenderParams): void {
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new InputError('bad_param', `${field} must be ${rule}, got ${JSON.stringify(value)}.`);
  };
  if (!Number.isInteger(p.k) || p.k < 1) bad('k', 'a positive integer', p.k);
  if (!Number.isInteger(p.nInit) || p.nInit < 1) bad('nInit', 'a positive integer', p.nInit);
  if (!Number.isInteger(p.maxIter) || p.maxIter < 1) bad('maxIter', 'a positive integer', p.maxIter);
  if (!(typeof p.tol === 'number' && p.tol >= 0 && Number.isFinite(p.tol))) bad('tol', 'a finite number ≥ 0', p.tol);
  // numpy's RandomState seeds (the K-means engine draws scikit-learn's stream): 0 … 2³² − 1
  if (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 0xffffffff) bad('seed', 'an integer between 0 and 4294967295', p.seed);
  if (!Number.isInteger(p.minClusterSize) || p.minClusterSize < 0) {
    bad('minClusterSize', 'a non-negative integer', p.minClusterSize);
  }
  if (p.engine !== 'default' && p.engine !== 'ml-kmeans') bad('engine', '"default" or "ml-kmeans"', p.engine);
}

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
  const resolved = resolveParams(stripUndefined(overrides) as RecommenderOverrides);
  validateParams(resolved);
  const seconds: Record<string, number> = {};
  const notes: string[] = [];
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

  if (resolved.algorithm === 'seed' && resolved.k > matrix.nRows) {
    throw new InputError(
      'too_few_users',
      `${opts.sourceName ?? 'the ratings file'} has ${matrix.nRows} users, fewer than k=${resolved.k} clusters; use a smaller --k.`,
      { report },
    );
  }
  const params: RecommenderOverrides = { ...stripUndefined(overrides) } as RecommenderOverrides;
  const nnz = matrix.indptr[matrix.nRows];
  const large = opts.largeDataNnz ?? LARGE_DATA_NNZ;
  if (nnz > large) {
    const taste = resolved.algorithm === 'taste';
    const nInit = taste ? LARGE_DATA_TASTE_N_INIT : LARGE_DATA_N_INIT;
    if (overrides.nInit === undefined && resolved.nInit > nInit) {
      notes.push(`nInit lowered from ${resolved.nInit} to ${nInit}: ${nnz} interactions exceed ${large}; set nInit explicitly to override.`);
      params.nInit = nInit;
    }
    if (taste && overrides.maxIter === undefined && resolved.maxIter > LARGE_DATA_TASTE_MAX_ITER) {
      notes.push(
        `maxIter lowered from ${resolved.maxIter} to ${LARGE_DATA_TASTE_MAX_ITER}: ${nnz} interactions exceed ${large} (inertia changes < 0.5% after that); set maxIter explicitly to override.`,
      );
      params.maxIter = LARGE_DATA_TASTE_MAX_ITER;
    }
  }

  progress({ phase: 'cluster' });
  const engine = await loadEngine(resolved.engine);
  let trained;
  try {
    trained = await trainChecked(matrix, params, {
      engine,
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
  return { snapshot, model: trained.model, matrix };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
