// Most popular over a split, identical in output to quality.py's model_pop: the floor every model must
// beat (the publish check compares each new version with it). Item-kNN lives with the offline tools.

import { K } from './protocol';
import { Recommendations, Recommender } from './score';
import { EvalSplit } from './split';

/** Most popular: TRAIN user counts descending, ties by movieId ascending, minus the user's TRAIN
 * movies. Lists may be shorter than k only when a user has seen almost everything. */
export const mostPopular: Recommender = async (split, k = K) => mostPopularSync(split, k);

export function mostPopularSync(split: EvalSplit, k: number = K): Recommendations {
  const { indptr, indices, nCols } = split.trainMatrix;
  const counts = columnCounts(split);
  const order = Array.from({ length: nCols }, (_, c) => c).sort((a, b) => counts[b] - counts[a] || a - b);
  const seen = new Uint8Array(nCols);
  const recs: Recommendations = new Map();
  for (let r = 0; r < split.userIds.length; r++) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) seen[indices[p]] = 1;
    const list: number[] = [];
    for (let j = 0; j < order.length && list.length < k; j++) {
      if (!seen[order[j]]) list.push(split.movieIds[order[j]]);
    }
    for (let p = indptr[r]; p < indptr[r + 1]; p++) seen[indices[p]] = 0;
    recs.set(split.userIds[r], list);
  }
  return recs;
}

/** Number of TRAIN users of each movie column. */
export function columnCounts(split: EvalSplit): Float64Array {
  const { indices, nCols } = split.trainMatrix;
  const counts = new Float64Array(nCols);
  for (let p = 0; p < indices.length; p++) counts[indices[p]]++;
  return counts;
}
