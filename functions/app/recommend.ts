// Use case: what user U should watch next (GET /users/{id}/recommendations), from the active version.
// A seed-algorithm user: the user's cluster list minus the user's movies (the seed's recommend); a taste
// user: the user's weighted cluster lists merged by core mergeWeightedLists; an unknown user: the popular
// list. Two reads on a warm Lambda: the user's item, then the counters of the user's cluster(s).
import type { RecommendationsT } from '../api/schemas';
import { takeUnseen } from '../core/model';
import { mergeWeightedLists } from '../core/recommender/serve';
import type { Catalogue, ClusterLists, ModelVersions, SizedList, UserRecord, UserStore } from '../ports';
import { activeOrThrow } from './active';
import { describeMovie } from './describe';

type RecommendStore = Pick<ModelVersions, 'activeVersion'> & Pick<UserStore, 'getUser'> & ClusterLists & Pick<Catalogue, 'getMovies'>;

export async function recommendations(
  store: RecommendStore,
  userId: number,
  n: number,
  offset: number,
): Promise<RecommendationsT> {
  const { version } = await activeOrThrow(store);
  const user = await store.getUser(version, userId);
  if (user?.mix && user.mix.clusters.length > 0) return tasteRecommendations(store, version, user, user.mix, n, offset);
  const [list, movies] = await Promise.all([
    user ? store.getClusterList(version, user.cluster) : store.getPopularList(version),
    store.getMovies(),
  ]);
  const seen = new Set(user ? [...user.movies, ...user.favourites] : []);
  const items = takeUnseen(list, seen, n, offset).map(({ movieId, score }) => ({
    ...describeMovie(movies, movieId),
    score,
    reason: user ? `liked by ${score} user(s) in your cluster` : `liked by ${score} user(s) overall`,
  }));
  return {
    userId,
    modelVersion: version,
    cluster: user ? user.cluster : null,
    source: user ? 'cluster' : 'popular',
    items,
  };
}

/** A taste user: Σ weight · count / size over the user's mix clusters (core mergeWeightedLists), the
 * counters of all of them read in one request; `cluster` is the primary cluster (where favourites count). */
async function tasteRecommendations(
  store: RecommendStore,
  version: string,
  user: UserRecord,
  mix: NonNullable<UserRecord['mix']>,
  n: number,
  offset: number,
): Promise<RecommendationsT> {
  const { clusters, weights } = mix;
  const [lists, movies] = await Promise.all([store.getClusterLists(version, clusters), store.getMovies()]);
  const seen = seenSet(user);
  const weighted = lists.map((l, j) => ({ weight: weights[j], size: l.size, movieIds: l.movieIds, counts: l.counts }));
  const picked = mergeWeightedLists(weighted, seen, n, offset);
  const contributors = whichClusters(lists, weights, picked.map((p) => p.movieId));
  const items = picked.map(({ movieId, score }, j) => {
    const reason = `popular with users like you (cluster${contributors[j].length === 1 ? '' : 's'} ${contributors[j].join(', ')})`;
    // describe() spelled out (same keys, same order): a literal instead of a spread of a temporary object
    const m = movies.get(movieId);
    return m ? { movieId, title: m.title, genres: m.genres, score, reason } : { movieId, score, reason };
  });
  return { userId: user.userId, modelVersion: version, cluster: user.cluster, source: 'cluster', items };
}

/** The user's movies and favourites as a Set (no intermediate spread array: this runs on every request). */
function seenSet(user: UserRecord): Set<number> {
  const seen = new Set(user.movies);
  for (const f of user.favourites) seen.add(f);
  return seen;
}

/**
 * For each movie, the mix clusters (in mix order) whose list counts it with a positive weight.
 *
 * Every entry of every mix list (10 × ≤ 500 on the product model) is tested against the ≤ n picked
 * movies, once per request. A bit filter on the low bits of the id (n bits set in ≥ 64·n) rejects
 * almost every entry with one typed-array read, so the Map is consulted only for the few that pass;
 * a movie's own bit is always set, so the answer is exactly the Map-only scan's.
 */
function whichClusters(lists: SizedList[], weights: number[], movieIds: number[]): number[][] {
  const out = movieIds.map(() => [] as number[]);
  const want = new Map(movieIds.map((m, j) => [m, j]));
  let bits = 1024;
  while (bits < 64 * movieIds.length) bits *= 2;
  const mask = bits - 1;
  const filter = new Int32Array(bits >>> 5);
  for (const m of movieIds) {
    const b = m & mask;
    filter[b >>> 5] |= 1 << (b & 31);
  }
  for (let k = 0; k < lists.length; k++) {
    const l = lists[k];
    if (!(weights[k] > 0) || !(l.size > 0)) continue;
    const ids = l.movieIds;
    for (let i = 0; i < ids.length; i++) {
      const m = ids[i];
      const b = m & mask;
      if ((filter[b >>> 5] & (1 << (b & 31))) === 0) continue;
      const j = want.get(m);
      if (j !== undefined) out[j].push(l.id);
    }
  }
  return out;
}
