// The publish gate: a new model version is trained again on a hold-out carved from its own data,
// scored (protocol v1 metrics at 10) next to most-popular on the same hold-out, and refused when it
// does worse (configurable). The report goes into the version's metadata (training.holdout).
import { mostPopularSync } from '../evaluate/popular';
import { scoreRecommendations } from '../evaluate/score';
import { Rng } from '../kmeans/prng';
import { CsrMatrix, InputError } from '../types';
import { holdoutSplit } from './holdout';
import { RecommenderParams } from './params';
import { topNForRows } from './batch';
import { recommendFor } from './serve';
import { trainRecommender, TrainRecommenderOptions } from './train';
import { HoldoutReport, pickMetrics, verdict } from './verdict';

export type { HoldoutMetrics, HoldoutReport } from './verdict';

export interface HoldoutCheckOptions extends TrainRecommenderOptions {
  /** sample at most this many test users (default 5000) */
  maxTestUsers?: number;
  /** required NDCG@10 ratio to most-popular (default 1: at least as good) */
  minRatio?: number;
  /** when params.taste.select is on, choose the settings again inside the check's TRAIN part
   * (default true; false reuses params' settings: faster, slightly optimistic) */
  reselect?: boolean;
}

/**
 * Held-out metrics of a model trained with `params` on `x`: hold out the last 20% of each sampled
 * user's movies (temporal with `times`, else random), train on the rest by the same procedure
 * (selection included, see `reselect`), recommend 10 for each test user, score, and compare with
 * most-popular on the same hold-out.
 */
export async function holdoutCheck(
  x: CsrMatrix,
  params: RecommenderParams,
  opts: HoldoutCheckOptions = {},
): Promise<HoldoutReport> {
  const minRatio = opts.minRatio ?? 1;
  const h = holdoutSplit(x, { times: opts.times, seed: params.randomState + 1, maxTestUsers: opts.maxTestUsers ?? 5000 });
  // with selection on, the check repeats it inside its own TRAIN part (nested), so the score measures
  // the whole training procedure and is not flattered by settings picked on this very hold-out
  const reselect = opts.reselect ?? true;
  const used: RecommenderParams = { ...params, taste: { ...params.taste, select: params.taste.select && reselect } };
  const { model } = await trainRecommender(h.split.trainMatrix, used, { ...opts, times: h.trainTimes });
  const recs = model.mix
    ? topNForRows(model, h.split.trainMatrix, h.testRows, 10)
    : new Map(h.testRows.map((r) => [x.rowIds[r], recommendFor(model, x.rowIds[r], { n: 10 }).items.map((i) => i.movieId)]));
  const mine = pickMetrics(scoreRecommendations(recs, h.split));
  const popAll = mostPopularSync(h.split, 10);
  const popRecs = new Map<number, readonly number[]>();
  for (const r of h.testRows) popRecs.set(x.rowIds[r], popAll.get(x.rowIds[r]) ?? []);
  const pop = pickMetrics(scoreRecommendations(popRecs, h.split));
  return verdict(mine, pop, { mode: h.mode, users: h.testRows.length, testRows: h.split.test.length, minRatio });
}

/** Throws when the check failed, unless the caller allows publishing anyway; `forceHint` says how this caller
 * does that (the CLI: --allow-below-popular; an S3 upload: its force metadata). */
export function assertPublishable(report: HoldoutReport, opts: { allowBelowPopular?: boolean; forceHint?: string } = {}): void {
  if (report.passed || opts.allowBelowPopular) return;
  throw new InputError(
    'below_popular',
    `Not published: the new model's ${report.reason}; the current model stays live (${opts.forceHint ?? 'pass --allow-below-popular'} to publish anyway).`,
    { holdout: report },
  );
}

/** Users the check trains on at most: above this, a seeded random sample of users stands for the whole
 * (the check retrains the model, so on MovieLens-25M-sized data it would otherwise double the cost). */
export const CHECK_MAX_USERS = 20_000;

/** The rows sampleUsers picks (ascending): a partial Fisher–Yates over row indices with Rng(seed, 7). Needs only
 * the row count, so a distributed training draws the same sample without the matrix. */
export function sampleRowIndices(nRows: number, maxUsers: number, seed: number): Int32Array {
  const rng = new Rng(seed, 7);
  const rows = Int32Array.from({ length: nRows }, (_, i) => i);
  for (let i = 0; i < maxUsers; i++) {
    const j = i + rng.int(nRows - i);
    const t = rows[i];
    rows[i] = rows[j];
    rows[j] = t;
  }
  return rows.subarray(0, maxUsers).sort();
}

/** A seeded random sample of `maxUsers` rows (ascending), with their matrix-aligned timestamps. */
export function sampleUsers(
  x: CsrMatrix,
  times: Float64Array | undefined,
  maxUsers: number,
  seed: number,
): { x: CsrMatrix; times: Float64Array | undefined } {
  if (x.nRows <= maxUsers) return { x, times };
  const picked = sampleRowIndices(x.nRows, maxUsers, seed);
  let nnz = 0;
  for (const r of picked) nnz += x.indptr[r + 1] - x.indptr[r];
  const indptr = new Int32Array(maxUsers + 1);
  const indices = new Int32Array(nnz);
  const values = x.values ? new Float64Array(nnz) : null;
  const sampledTimes = times ? new Float64Array(nnz) : undefined;
  const rowIds = new Float64Array(maxUsers);
  let w = 0;
  picked.forEach((r, i) => {
    rowIds[i] = x.rowIds[r];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++, w++) {
      indices[w] = x.indices[p];
      if (values) values[w] = x.values![p];
      if (sampledTimes) sampledTimes[w] = times![p];
    }
    indptr[i + 1] = w;
  });
  return { x: { nRows: maxUsers, nCols: x.nCols, indptr, indices, values, rowIds, colIds: x.colIds }, times: sampledTimes };
}
