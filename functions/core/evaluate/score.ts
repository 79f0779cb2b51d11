// Protocol v1 metrics (step 6 of quality.py's header), with quality.py's exact semantics:
//  - only the first k DISTINCT movies of a list count (later duplicates are ignored);
//  - a test user missing from the recommendations gets an empty list;
//  - every metric is averaged over ALL test users; precision is hits / k even for short lists;
//  - NDCG: binary gain, 1/log2(rank + 1), IDCG over min(|test|, k) hits;
//  - coverage@k = distinct TRAIN movies in all top-k lists / distinct TRAIN movies;
//  - a user's own TRAIN movies in the list are counted ("train_leak_recs") and score as misses;
//    movies never seen in TRAIN are counted ("non_train_movie_recs") but can still hit.

import { InputError } from '../types';
import { K } from './protocol';
import { EvalSplit, hasTrainCol, movieCol } from './split';

/** userId → movie ids, best first. */
export type Recommendations = Map<number, readonly number[]>;

/** A recommender under evaluation: trained on `split.train` only, returns a list (best first, at
 * least k long where it can) for every user of the split. */
export type Recommender = (split: EvalSplit, k: number) => Promise<Recommendations>;

export type MetricName = 'precision' | 'recall' | 'ndcg' | 'hitrate' | 'coverage';

/** Same keys as quality.py's score() (with k = 10: `precision@10`, …). */
export type ScoreResult = {
  users: number;
  users_missing: number;
  short_lists: number;
  train_leak_recs: number;
  non_train_movie_recs: number;
} & { [key: `${MetricName}@${number}`]: number };

export function scoreRecommendations(recs: Recommendations, split: EvalSplit, k: number = K): ScoreResult {
  if (!Number.isInteger(k) || k < 1) throw new InputError('bad_k', `The list length k must be a positive integer, got ${k}.`);
  const discount = new Float64Array(k);
  for (let i = 0; i < k; i++) discount[i] = 1 / Math.log2(i + 2);
  const idcgPrefix = new Float64Array(k + 1);
  for (let i = 0; i < k; i++) idcgPrefix[i + 1] = idcgPrefix[i] + discount[i];

  const nMovies = split.movieIds.length;
  const covered = new Uint8Array(nMovies);
  let nCovered = 0;
  let sumP = 0;
  let sumR = 0;
  let sumN = 0;
  let sumH = 0;
  let users = 0;
  let missing = 0;
  let short = 0;
  let leak = 0;
  let unknown = 0;
  const { indptr: tPtr, movieIds: tMovies } = split.test;

  for (let r = 0; r < split.userIds.length; r++) {
    const nTest = tPtr[r + 1] - tPtr[r];
    if (nTest === 0) continue; // cannot happen under v1 (n ≥ 5), kept for external splits
    users++;
    const test = new Set<number>();
    for (let p = tPtr[r]; p < tPtr[r + 1]; p++) test.add(tMovies[p]);
    let list = recs.get(split.userIds[r]);
    if (list === undefined) {
      missing++;
      list = [];
    }
    const inList = new Set<number>();
    let hits = 0;
    let dcg = 0;
    for (const m of list) {
      if (inList.size === k) break;
      if (inList.has(m)) continue;
      const rank = inList.size; // 0-based
      inList.add(m);
      if (test.has(m)) {
        hits++;
        dcg += discount[rank];
      }
      const c = movieCol(split, m);
      if (c === undefined) {
        unknown++;
      } else {
        if (hasTrainCol(split, r, c)) leak++;
        if (!covered[c]) {
          covered[c] = 1;
          nCovered++;
        }
      }
    }
    if (inList.size < k) short++;
    sumP += hits / k;
    sumR += hits / nTest;
    sumN += dcg / idcgPrefix[Math.min(nTest, k)];
    sumH += hits > 0 ? 1 : 0;
  }
  const mean = (s: number) => (users === 0 ? NaN : s / users);
  return {
    users,
    [`precision@${k}`]: mean(sumP),
    [`recall@${k}`]: mean(sumR),
    [`ndcg@${k}`]: mean(sumN),
    [`hitrate@${k}`]: mean(sumH),
    [`coverage@${k}`]: nMovies === 0 ? NaN : nCovered / nMovies,
    users_missing: missing,
    short_lists: short,
    train_leak_recs: leak,
    non_train_movie_recs: unknown,
  } as ScoreResult;
}

/** Runs a recommender on a split and scores it; `secs` is the recommender's wall time. */
export async function evaluateRecommender(
  recommender: Recommender,
  split: EvalSplit,
  k: number = K,
): Promise<{ metrics: ScoreResult; secs: number; recs: Recommendations }> {
  const t0 = performance.now();
  const recs = await recommender(split, k);
  const secs = (performance.now() - t0) / 1000;
  return { metrics: scoreRecommendations(recs, split, k), secs, recs };
}
