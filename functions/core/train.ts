// The training pipeline: ratings stream → data report → sparse matrix → K-means → seed model → snapshot.
// Shared by the CLI and the training Lambda. Pure: the caller supplies the stream.
import { kmeans } from './kmeans';
import { buildMatrix, fillReport } from './matrix';
import {
  buildSeedModel,
  ModelSnapshot,
  SEED_PARAMS,
  SeedModel,
  toSnapshot,
  TrainingParams,
} from './model';
import { readRatings } from './ratings';
import { CsrMatrix, InputError, KMeansEngine, KMeansProgress, KMeansResult, RatingsFormat } from './types';

export type TrainPhase = 'parse' | 'matrix' | 'cluster' | 'counts';

export interface TrainProgress {
  phase: TrainPhase;
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
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainResult {
  snapshot: ModelSnapshot;
  model: SeedModel;
  matrix: CsrMatrix;
  labels: Int32Array;
}

/** Restarts are the dominant cost on very large inputs; when the caller did not choose nInit, huge data
 * gets fewer restarts (each already sees millions of points, so restarts vary little). */
export const LARGE_DATA_NNZ = 5_000_000;
export const LARGE_DATA_N_INIT = 3;

export function validateParams(p: TrainingParams): void {
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new InputError('bad_param', `${field} must be ${rule}, got ${JSON.stringify(value)}.`);
  };
  if (!Number.isInteger(p.k) || p.k < 1) bad('k', 'a positive integer', p.k);
  if (!Number.isInteger(p.nInit) || p.nInit < 1) bad('nInit', 'a positive integer', p.nInit);
  if (!Number.isInteger(p.maxIter) || p.maxIter < 1) bad('maxIter', 'a positive integer', p.maxIter);
  if (!(typeof p.tol === 'number' && p.tol >= 0 && Number.isFinite(p.tol))) bad('tol', 'a finite number ≥ 0', p.tol);
  if (!Number.isInteger(p.seed) || p.seed < 0) bad('seed', 'a non-negative integer', p.seed);
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
  overrides: Partial<TrainingParams> = {},
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const params: TrainingParams = { ...SEED_PARAMS, ...stripUndefined(overrides) };
  validateParams(params);
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
  });
  lap('parse');

  progress({ phase: 'matrix' });
  const { matrix, duplicatesCollapsed } = buildMatrix(interactions);
  fillReport(report, matrix, duplicatesCollapsed);
  lap('matrix');

  if (params.k > matrix.nRows) {
    throw new InputError(
      'too_few_users',
      `${opts.sourceName ?? 'the ratings file'} has ${matrix.nRows} users, fewer than k=${params.k} clusters; use a smaller --k.`,
      { report },
    );
  }
  const nnz = matrix.indptr[matrix.nRows];
  if (overrides.nInit === undefined && nnz > LARGE_DATA_NNZ && params.nInit > LARGE_DATA_N_INIT) {
    notes.push(
      `nInit lowered from ${params.nInit} to ${LARGE_DATA_N_INIT}: ${nnz} interactions exceed ${LARGE_DATA_NNZ}; set nInit explicitly to override.`,
    );
    params.nInit = LARGE_DATA_N_INIT;
  }

  progress({ phase: 'cluster' });
  const engine = await loadEngine(params.engine);
  const result: KMeansResult = await engine(matrix, {
    k: params.k,
    nInit: params.nInit,
    maxIter: params.maxIter,
    tol: params.tol,
    seed: params.seed,
    threads: opts.threads,
    onProgress: (p) => progress({ phase: 'cluster', kmeans: p }),
  });
  lap('cluster');

  progress({ phase: 'counts' });
  const { model, fix } = buildSeedModel(matrix, result.labels, params.minClusterSize);
  lap('counts');

  const snapshot = toSnapshot(model, {
    params,
    data: report,
    training: {
      inertia: result.inertia,
      iterations: result.iterations,
      inertias: result.inertias,
      seconds,
      fix,
      engine: result.engine,
      notes,
    },
  });
  return { snapshot, model, matrix, labels: result.labels };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
