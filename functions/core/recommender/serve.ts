// Serving: one entry point for both algorithms. A seed model (no mix) is answered by the seed's own
// recommend(), unchanged; a taste model merges the user's few weighted cluster lists.
import { clusterById, recommend, Recommendation, RecommendOptions, SeedModel, userIndex, validatePaging } from '../model';

/** One of a user's clusters as read from the cluster table: its ranked list, size and the user's weight. */
export interface WeightedList {
  weight: number;
  size: number;
  movieIds: readonly number[];
  counts: readonly number[];
}

/**
 * Merge weighted cluster lists: score(m) = Σ weight · count(m) / size, the user's `seen` movies
 * excluded, ranked by score desc then movieId asc, items [offset, offset + n). Pure, so the API can
 * call it on lists read from DynamoDB.
 */
export function mergeWeightedLists(
  lists: readonly WeightedList[],
  seen: { has(m: number): boolean },
  n: number,
  offset: number,
): Array<{ movieId: number; score: number }> {
  const score = new Map<number, number>();
  for (const l of lists) {
    if (!(l.size > 0) || !(l.weight > 0)) continue;
    const f = l.weight / l.size;
    for (let i = 0; i < l.movieIds.length; i++) {
      const m = l.movieIds[i];
      if (seen.has(m)) continue;
      score.set(m, (score.get(m) ?? 0) + f * l.counts[i]);
    }
  }
  const want = offset + n;
  const better = (a: { movieId: number; score: number }, b: { movieId: number; score: number }) =>
    a.score > b.score || (a.score === b.score && a.movieId < b.movieId);
  let items: Array<{ movieId: number; score: number }>;
  if (want >= score.size / 4) {
    items = Array.from(score, ([movieId, s]) => ({ movieId, score: s }));
    items.sort((a, b) => b.score - a.score || a.movieId - b.movieId);
  } else {
    // keep only the best `want` in a sorted buffer (a page is small next to the merged lists)
    items = [];
    for (const [movieId, s] of score) {
      const it = { movieId, score: s };
      if (items.length === want && !better(it, items[want - 1])) continue;
      let i = items.length < want ? items.length : want - 1;
      if (items.length < want) items.push(it);
      while (i > 0 && better(it, items[i - 1])) {
        items[i] = items[i - 1];
        i--;
      }
      items[i] = it;
    }
  }
  return items.slice(offset, offset + n);
}

/** The user's mix as weighted lists (empty when the model has no mix or the user is unknown). */
export function userLists(model: SeedModel, userId: number): WeightedList[] {
  const i = userIndex(model, userId);
  if (i < 0 || !model.mix) return [];
  const out: WeightedList[] = [];
  for (let p = model.mix.ptr[i]; p < model.mix.ptr[i + 1]; p++) {
    const c = clusterById(model, model.mix.clusters[p]);
    out.push({ weight: model.mix.weights[p], size: c.size, movieIds: c.movieIds, counts: c.counts });
  }
  return out;
}

/** Recommendations for a user from either kind of model. Unknown users get the most-popular list. */
export function recommendFor(model: SeedModel, userId: number, opts: RecommendOptions = {}): Recommendation {
  if (!model.mix) return recommend(model, userId, opts);
  const n = opts.n ?? 10;
  const offset = opts.offset ?? 0;
  validatePaging(n, offset, Number.MAX_SAFE_INTEGER);
  const i = userIndex(model, userId);
  if (i < 0) return recommend(model, userId, opts);
  const seen = new Set(model.userMovies.slice(model.userMoviePtr[i], model.userMoviePtr[i + 1]));
  const items = mergeWeightedLists(userLists(model, userId), seen, n, offset);
  return { userId, source: 'cluster', cluster: model.mix.clusters[model.mix.ptr[i]] ?? model.userCluster[i], items };
}
