// Use case: what user U should watch next (GET /users/{id}/recommendations), from the active version.
// A seed-algorithm user: the user's cluster list minus the user's movies (the seed's recommend); a user of
// the default model (CL-EASE): core scoreUser over the mix clusters' lists and local matrices, as recommendFor
// scores it for the CLI and the batch export; a user of an older taste version: the weighted cluster lists
// merged by core mergeWeightedLists; an unknown user: the popular list. Two reads on a warm Lambda: the user's
// item, then the counters of the user's cluster(s).
// Filters (core skipSet) are applied inside the ranking walk, so a filtered page is as long as an unfiltered
// one whenever the lists hold enough movies that pass; they cost no read (the catalogue is cached).
// With the catalogue loaded, each reason names a movie the user watched that is typical of the cluster the
// item comes from (core typicalMovies, stored with the cluster's list).
import type { RecommendationsT } from '../api/schemas';
import { becauseOf } from '../core/explain';
import { skipSet, type RecommendationFilter } from '../core/filters';
import { takeUnseen } from '../core/model';
import { personalHistory, scoreUser } from '../core/recommender/personal';
import { mergeWeightedLists } from '../core/recommender/serve';
import type { Catalogue, ClusterLists, ModelVersions, MovieInfo, SizedList, UserRecord, UserStore } from '../ports';
import { activeOrThrow } from './active';
import { describeMovie } from './describe';

type RecommendStore = Pick<ModelVersions, 'activeVersion'> & Pick<UserStore, 'getUser'> & ClusterLists & Pick<Catalogue, 'getMovies'>;
type Item = RecommendationsT['items'][number];

const NOTHING_SEEN: { has(m: number): boolean } = { has: () => false };

export async function recommendations(
  store: RecommendStore,
  userId: number,
  n: number,
  offset: number,
  filter?: RecommendationFilter,
): Promise<RecommendationsT> {
  const { version } = await activeOrThrow(store);
  const user = await store.getUser(version, userId);
  if (user?.mix && user.mix.clusters.length > 0) return tasteRecommendations(store, version, user, user.mix, n, offset, filter);
  const [list, movies] = await Promise.all([
    user ? store.getClusterList(version, user.cluster) : store.getPopularList(version),
    store.getMovies(),
  ]);
  const seen = user ? seenSet(user) : NOTHING_SEEN;
  const picked = takeUnseen(list, skipSet(seen, filter, movies), n, offset);
  // the typical movies come with the list just read (cached): no request
  const watched = user && movies.size > 0 ? watchedTitle(movies, (await store.getTypical(version, [user.cluster]))[0], seen) : null;
  const items = picked.map(({ movieId, score }): Item => {
    const why = user ? `liked by ${score} user(s) in your cluster` : `liked by ${score} user(s) overall`;
    return watched
      ? { ...describeMovie(movies, movieId), score, reason: `because you watched ${watched.title}: ${why}`, because: watched.movieId }
      : { ...describeMovie(movies, movieId), score, reason: why };
  });
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
  filter: RecommendationFilter | undefined,
): Promise<RecommendationsT> {
  const { clusters, weights } = mix;
  const [lists, movies] = await Promise.all([store.getClusterLists(version, clusters), store.getMovies()]);
  const seen = seenSet(user);
  const skip = skipSet(seen, filter, movies);
  const scoring = lists.length > 0 && lists.every((l) => l.local) ? lists[0].scoring : undefined;
  const picked = scoring
    ? // the default model (CL-EASE): core's scorer on the same lists, matrices and history as recommendFor
      scoreUser(
        lists.map((l, j) => ({ weight: weights[j], size: l.size, movieIds: l.local!.movieIds, counts: l.local!.counts, b: l.local!.b })),
        personalHistory(scoring, { recent: user.recent ?? [], movies: user.movies, favourites: user.favouritesInOrder ?? user.favourites }),
        skip,
        scoring,
        n,
        offset,
      )
    : mergeWeightedLists(
        lists.map((l, j) => ({ weight: weights[j], size: l.size, movieIds: l.movieIds, counts: l.counts })),
        skip,
        n,
        offset,
      );
  const contributors = whichClusters(lists, weights, picked.map((p) => p.movieId));
  // per mix list, the typical movie the user watched (looked up once per list, only with a catalogue; the
  // typical movies come with the lists just read, so this costs no request)
  const typical = movies.size > 0 ? await store.getTypical(version, clusters) : [];
  const watchedIn = new Map<number, { movieId: number; title: string } | null>();
  const watchedFor = (k: number) => {
    if (!watchedIn.has(k)) watchedIn.set(k, watchedTitle(movies, typical[k], seen));
    return watchedIn.get(k)!;
  };
  const items = picked.map(({ movieId, score }, j): Item => {
    const c = contributors[j];
    const why = `popular with users like you (${clusterNames(lists, c)})`;
    let watched: { movieId: number; title: string } | null = null;
    if (movies.size > 0) for (const k of c.byShare()) if ((watched = watchedFor(k))) break;
    // describe() spelled out (same keys, same order): a literal instead of a spread of a temporary object
    const m = movies.get(movieId);
    const reason = watched ? `because you watched ${watched.title}: ${why}` : why;
    const item: Item = m ? { movieId, title: m.title, genres: m.genres, score, reason } : { movieId, score, reason };
    if (watched) item.because = watched.movieId;
    return item;
  });
  return { userId: user.userId, modelVersion: version, cluster: user.cluster, source: 'cluster', items };
}

/** The first typical movie of a cluster the user watched, when the catalogue names it. */
function watchedTitle(movies: Map<number, MovieInfo>, typical: number[] | undefined, seen: { has(m: number): boolean }) {
  if (movies.size === 0 || !typical) return null;
  const because = becauseOf(typical, { has: (m) => seen.has(m) && movies.has(m) });
  return because === undefined ? null : { movieId: because, title: movies.get(because)!.title };
}

/** The clusters a reason names: all of them up to REASON_CLUSTERS (mix order), else the REASON_CLUSTERS that
 * count the movie most (weight · count / size) and how many more do (the default model mixes up to 15 lists,
 * and a popular movie is in most of them). */
const REASON_CLUSTERS = 3;
function clusterNames(lists: readonly { id: number }[], c: Contributors): string {
  if (c.ids.length <= REASON_CLUSTERS) return `cluster${c.ids.length === 1 ? '' : 's'} ${c.ids.join(', ')}`;
  const top = c.byShare().slice(0, REASON_CLUSTERS).map((k) => lists[k].id);
  return `clusters ${top.join(', ')} and ${c.ids.length - REASON_CLUSTERS} more`;
}

/** The user's movies and favourites as a Set (no intermediate spread array: this runs on every request). */
function seenSet(user: UserRecord): Set<number> {
  const seen = new Set(user.movies);
  for (const f of user.favourites) seen.add(f);
  return seen;
}

/** The mix clusters that count one picked movie: their ids (mix order) and, for reasons, their list indices by
 * contribution weight · count / size, largest first. */
interface Contributors {
  ids: number[];
  ks: number[];
  shares: number[];
  byShare(): number[];
}

function contributorsOf(): Contributors {
  return {
    ids: [],
    ks: [],
    shares: [],
    byShare() {
      // stable: equal shares keep mix order
      return this.ks.map((k, i) => ({ k, s: this.shares[i], i })).sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.k);
    },
  };
}

/**
 * For each movie, the mix clusters (in mix order) whose list counts it with a positive weight.
 *
 * Every entry of every mix list (10 × ≤ 500 on the product model) is tested against the ≤ n picked
 * movies, once per request. A bit filter on the low bits of the id (n bits set in ≥ 64·n) rejects
 * almost every entry with one typed-array read, so the Map is consulted only for the few that pass;
 * a movie's own bit is always set, so the answer is exactly the Map-only scan's.
 */
function whichClusters(lists: SizedList[], weights: number[], movieIds: number[]): Contributors[] {
  const out = movieIds.map(contributorsOf);
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
      if (j === undefined) continue;
      const c = out[j];
      c.ids.push(l.id);
      c.ks.push(k);
      c.shares.push((weights[k] * l.counts[i]) / l.size);
    }
  }
  return out;
}
