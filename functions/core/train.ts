// The one training pipeline, shared by the training Lambda and the CLI. Pure: the caller supplies the stream.
//   parse (readRatings) → matrix (buildMatrix, data report) → recommender (trainRecommender: seed or taste)
//   → hold-out check (holdoutCheck on a sample; the one publishability verdict) → model + snapshot
import { kmeans, releaseEngineMemory } from './kmeans';
import { buildMatrix, fillReport } from './matrix';
import { maxPairsFor, memoryCheck, type MemoryBudget } from './memory';
import { ClusterModel } from './model';
import { ModelSnapshot, toSnapshot, TrainingParams, TrainingSummary } from './snapshot';
import {
  assertPublishable,
  CHECK_MAX_USERS,
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
  /** the memory this run has: the file is refused (too_large) as soon as its distinct pairs, users and movies
   * would not fit, naming what the whole file needs and how to give it (core/memory.ts) */
  memory?: MemoryBudget;
  /** the input's stored size when the caller knows it (S3 Content-Length), for that message */
  totalBytes?: number;
  /** name used in error messages (file path or s3 key) */
  sourceName?: string;
  threads?: number;
  /** run the hold-out check against most-popular before returning (default true) */
  check?: boolean;
  /** return the model even when it scores below most-popular on its hold-out (the report says so) */
  allowBelowPopular?: boolean;
  /** users of the model this one would replace: a file with fewer than MIN_USER_SHARE of them is refused
   * (users_dropped) unless `force` */
  activeUsers?: number;
  /** publish despite a drop in users against the active model or a hold-out check below most-popular (never
   * despite too few users for two clusters) */
  force?: boolean;
  /** how this caller forces, for those refusals' messages (default: the CLI's --allow-below-popular) */
  forceHint?: string;
  /** interactions above which the large-data settings apply (seed: fewer restarts; default model: its
   * large-data path) (default LARGE_DATA_NNZ / taste.largeDataNnz) */
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
 * gets fewer restarts for the seed algorithm (each already sees millions of points, so restarts vary
 * little). The default model switches to its large-data path at the same size (taste.largeDataNnz). */
export const LARGE_DATA_NNZ = 5_000_000;
export const LARGE_DATA_N_INIT = 3;

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

  const taste = resolved.algorithm === 'taste';
  const largeNnz = opts.largeDataNnz ?? (taste ? resolved.taste.largeDataNnz : LARGE_DATA_NNZ);
  const { matrix, report, times, ages } = await readMatrix(source, resolved, opts, progress, lap, largeNnz);

  assertEnoughUsers(matrix.nRows, resolved, opts, report);
  const { params, notes } = taste
    ? { params: { ...given, taste: { ...given.taste, largeDataNnz: largeNnz } }, notes: [] as string[] }
    : largeDataParams(given, resolved, matrix.indptr[matrix.nRows], largeNnz);

  progress({ phase: 'cluster' });
  let trained: Awaited<ReturnType<typeof trainChecked>>;
  try {
    trained = await trainChecked(matrix, params, {
      engine: await loadEngine(resolved.engine),
      threads: opts.threads,
      times,
      ages,
      check: opts.check ?? true,
      allowBelowPopular: opts.allowBelowPopular || opts.force,
      forceHint: opts.forceHint,
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

  if (trained.model.clusters.length < MIN_CLUSTERS) {
    throw new InputError(
      'too_few_clusters',
      `${opts.sourceName ?? 'the ratings file'}: the model has ${trained.model.clusters.length} cluster, which would recommend the same movies to everyone (the most popular list); a model needs at least ${MIN_CLUSTERS}${resolved.algorithm === 'seed' ? ' (a larger k, or a smaller minClusterSize)' : ''}.`,
      { report },
    );
  }
  const training = trained.training;
  training.seconds = { ...seconds, ...training.seconds };
  training.notes = [...notes, ...(training.notes ?? [])];
  const snapshot = toSnapshot(trained.model, { params: trained.params, data: report, training });
  return { model: trained.model, params: trained.params, data: report, training, snapshot, matrix };
}

/**
 * parse → matrix, in a function of its own so the reader's arrays (two nnz-sized Int32Arrays, and the
 * taste model's timestamps) are garbage as soon as the matrix exists: held by trainModel's frame, they
 * stayed alive through clustering and the model write.
 */
async function readMatrix(
  source: NodeJS.ReadableStream | string,
  resolved: RecommenderParams,
  opts: TrainOptions,
  progress: (p: TrainProgress) => void,
  lap: (phase: string) => void,
  largeNnz: number,
): Promise<{ matrix: CsrMatrix; report: DataReport; times: Float64Array | undefined; ages: Int32Array | undefined }> {
  const taste = resolved.algorithm === 'taste';
  progress({ phase: 'parse' });
  const { interactions, report } = await readRatings(source, {
    format: opts.format ?? 'auto',
    maxRejectedShare: opts.maxRejectedShare,
    maxBytes: opts.maxBytes,
    sourceName: opts.sourceName,
    // the default model weights recent movies; the seed algorithm needs no timestamps
    withTimestamps: taste,
    // memory follows the distinct (user, movie) pairs: a row repeated a billion times is held once
    collapseDuplicates: true,
    memoryCheck: opts.memory ? memoryCheck(opts.memory, opts.sourceName ?? 'the ratings file') : undefined,
    maxPairs: opts.memory ? maxPairsFor(opts.memory) : undefined,
    totalBytes: opts.totalBytes,
  });
  lap('parse');
  progress({ phase: 'matrix' });
  // the default model's large-data path works with each entry's age in its row, not with its timestamp;
  // both come out of the build (the entries ≤ the interactions: ages are asked for whenever they may be needed)
  const built = buildMatrix(interactions, { times: taste, ages: taste && interactions.length > largeNnz });
  const { matrix, duplicatesCollapsed } = built;
  fillReport(report, matrix, duplicatesCollapsed);
  const large = taste && matrix.indptr[matrix.nRows] > largeNnz;
  lap('matrix');
  return { matrix, report, times: large ? undefined : built.times, ages: large ? built.ages : undefined };
}

/** Fewest clusters a published model may have: with one, every user gets the most popular list. */
export const MIN_CLUSTERS = 2;
/** Fewest users per cluster on average (the seed's fixClusters threshold; the taste model's k selection keeps
 * the same ratio). */
export const MIN_USERS_PER_CLUSTER = 6;
/** A file with fewer users than this share of the active model's users would replace a big model with a
 * small one: it needs force. */
export const MIN_USER_SHARE = 0.5;

/** Users a file needs to be trained at all: two clusters of six, and k when k is fixed (the seed algorithm, or a
 * taste model given its k rather than choosing one). */
export function minimumUsers(p: Pick<RecommenderParams, 'algorithm' | 'k' | 'taste'>): number {
  const fixedK = p.algorithm === 'seed' || !p.taste.select;
  return Math.max(MIN_CLUSTERS * MIN_USERS_PER_CLUSTER, fixedK ? p.k : 0);
}

export function assertEnoughUsers(users: number, p: RecommenderParams, opts: TrainOptions, report: DataReport): void {
  const name = opts.sourceName ?? 'the ratings file';
  const min = minimumUsers(p);
  if (users < min) {
    const why =
      (p.algorithm === 'seed' || !p.taste.select) && p.k >= min
        ? `fewer than k=${p.k} clusters; use a smaller k`
        : `a model needs at least ${min} (${MIN_CLUSTERS} clusters of ${MIN_USERS_PER_CLUSTER} users)`;
    throw new InputError('too_few_users', `${name} has ${users} user${users === 1 ? '' : 's'}, ${why}.`, { report });
  }
  const active = opts.activeUsers;
  if (active !== undefined && users < MIN_USER_SHARE * active && !opts.force) {
    throw new InputError(
      'users_dropped',
      `${name} has ${users} users, fewer than ${MIN_USER_SHARE * 100}% of the ${active} users of the active model, which it would replace; the active model stays (${opts.forceHint ?? 'train it with force'} to replace it anyway).`,
      { report },
    );
  }
}

/** Huge inputs get fewer restarts for the seed algorithm unless the caller chose them (the default model has
 * its own large-data path, recommender/large.ts); every adjustment is reported in plain words. */
export function largeDataParams(
  given: RecommenderOverrides,
  resolved: RecommenderParams,
  nnz: number,
  large: number,
): { params: RecommenderOverrides; notes: string[] } {
  const params: RecommenderOverrides = { ...given };
  const notes: string[] = [];
  if (nnz <= large) return { params, notes };
  if (given.nInit === undefined && resolved.nInit > LARGE_DATA_N_INIT) {
    notes.push(`nInit lowered from ${resolved.nInit} to ${LARGE_DATA_N_INIT}: ${nnz} interactions exceed ${large}; set nInit explicitly to override.`);
    params.nInit = LARGE_DATA_N_INIT;
  }
  return { params, notes };
}

export interface TrainCheckedOptions extends HoldoutCheckOptions {
  /** run the hold-out check (default true) */
  check?: boolean;
  /** publish even when the check fails (the report still says so) */
  allowBelowPopular?: boolean;
  /** how the caller publishes anyway, for the refusal */
  forceHint?: string;
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
): Promise<Omit<RecommenderResult, 'holdout'> & { holdout: HoldoutReport | null }> {
  const res = await trainRecommender(x, overrides, opts);
  if (res.holdout) {
    // the large-data path checked the model itself, on users apart from those that chose its settings
    if (opts.check === false) return { ...res, holdout: null };
    assertPublishable(res.holdout, opts);
    return { ...res, holdout: res.holdout };
  }
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
