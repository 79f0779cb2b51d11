// The servable model of both algorithms (users, their movies, ranked cluster lists, the popular list; the
// taste model adds each user's weighted clusters) and the seed project's rules on it: recommend, a user's
// movies, favourites, and where a new user goes. Pure data in and out. How a clustering becomes this
// model: cluster-lists.ts; the versioned document: snapshot.ts.
import { incrementRanked, type RankedList } from './ranked';
import { InputError } from './types';

export interface ClusterList extends RankedList {
  id: number;
  /** number of users assigned to the cluster */
  size: number;
  /** CL-EASE model only: the cluster-local EASE matrix over the list's published movies */
  local?: LocalEase;
}

/** A cluster's item-item weights (recommender/local-ease.ts) over its published top-L movies. The ranked
 * list above may re-order (favourites move entries), so the matrix keeps its own movie order. */
export interface LocalEase {
  /** the published movies, in the order of B's rows and columns */
  movieIds: number[];
  /** live count of each (kept equal to its count in the ranked list) */
  counts: number[];
  /** L × L row-major, b[i·L + j] = weight from movie i to movie j, zero diagonal */
  b: Float32Array;
}

/** The serving model: everything recommend/addFavourite/userMovies need. */
export interface ClusterModel {
  /** ascending user ids */
  userIds: number[];
  /** cluster id of userIds[i] */
  userCluster: number[];
  /** movies of userIds[i] are userMovies[userMoviePtr[i] .. userMoviePtr[i+1]), ascending */
  userMoviePtr: number[];
  userMovies: number[];
  /** surviving clusters, ascending id */
  clusters: ClusterList[];
  /** global most-popular list (users per movie) */
  popular: RankedList;
  /** taste model only (absent for the seed algorithm): each user's few weighted clusters */
  mix?: UserMix;
  /** CL-EASE model only: the serving settings (β, recency half-life) */
  scoring?: { beta: number; halfLife: number };
  /** CL-EASE model with recency only: user i's newest movies, oldest first, then the favourites added
   * since training in the order added: recent.movies[recent.ptr[i] .. recent.ptr[i+1]) */
  recent?: { ptr: number[]; movies: number[] };
}

/** Soft membership (taste model): user i's clusters are clusters[ptr[i] .. ptr[i+1]) with weights
 * summing to 1, highest weight first. A movie's score is Σ weight · count / size over those clusters. */
export interface UserMix {
  ptr: number[];
  clusters: number[];
  weights: number[];
}

/** Binary search in the ascending user id array; -1 when unknown. */
export function userIndex(model: ClusterModel, userId: number): number {
  let lo = 0;
  let hi = model.userIds.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = model.userIds[mid];
    if (v === userId) return mid;
    if (v < userId) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The user's movies (the seed's getMyMovies), ascending; empty for an unknown user. */
export function userMovies(model: ClusterModel, userId: number): number[] {
  const i = userIndex(model, userId);
  if (i < 0) return [];
  return model.userMovies.slice(model.userMoviePtr[i], model.userMoviePtr[i + 1]);
}

export interface RecommendOptions {
  n?: number;
  offset?: number;
}

export interface Recommendation {
  userId: number;
  source: 'cluster' | 'popular';
  cluster: number | null;
  items: Array<{ movieId: number; score: number }>;
}

/** Walk a ranked list, skipping `seen`, returning items [offset, offset + n). */
export function takeUnseen(
  list: RankedList,
  seen: { has(m: number): boolean },
  n: number,
  offset: number,
): Array<{ movieId: number; score: number }> {
  const out: Array<{ movieId: number; score: number }> = [];
  let skipped = 0;
  for (let i = 0; i < list.movieIds.length && out.length < n; i++) {
    const m = list.movieIds[i];
    if (seen.has(m)) continue;
    if (skipped < offset) {
      skipped++;
      continue;
    }
    out.push({ movieId: m, score: list.counts[i] });
  }
  return out;
}

export function validatePaging(n: number, offset: number, maxN = 100): void {
  if (!Number.isInteger(n) || n < 1 || n > maxN) {
    throw new InputError('bad_n', `n must be an integer between 1 and ${maxN}, got ${n}.`);
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InputError('bad_offset', `offset must be a non-negative integer, got ${offset}.`);
  }
}

/** The user's cluster list minus the user's movies; unknown users get the global most-popular list. */
export function recommend(model: ClusterModel, userId: number, opts: RecommendOptions = {}): Recommendation {
  const n = opts.n ?? 10;
  const offset = opts.offset ?? 0;
  validatePaging(n, offset, Number.MAX_SAFE_INTEGER);
  const i = userIndex(model, userId);
  if (i < 0) {
    return { userId, source: 'popular', cluster: null, items: takeUnseen(model.popular, new Set(), n, offset) };
  }
  const seen = new Set(model.userMovies.slice(model.userMoviePtr[i], model.userMoviePtr[i + 1]));
  const cluster = clusterById(model, model.userCluster[i]);
  return { userId, source: 'cluster', cluster: cluster.id, items: takeUnseen(cluster, seen, n, offset) };
}

export function clusterById(model: ClusterModel, id: number): ClusterList {
  const c = model.clusters.find((x) => x.id === id);
  if (!c) throw new Error(`model has no cluster ${id}`);
  return c;
}

/** The fixClusters placement rule: the list that holds the largest share of the user's movies (its index
 * and that share); ties (and a user with no movies) → the first such list, so lists in ascending cluster id
 * give the lowest id. fixClusters, the in-memory model's new users and the API's placement of a new user
 * all decide with this. */
export function placeUser(lists: ReadonlyArray<{ has(movieId: number): boolean }>, movies: readonly number[]): { index: number; share: number } {
  let index = 0;
  let best = -1;
  for (let j = 0; j < lists.length; j++) {
    let hits = 0;
    for (const m of movies) if (lists[j].has(m)) hits++;
    const share = movies.length ? hits / movies.length : 0;
    if (share > best) {
      index = j;
      best = share;
    }
  }
  return { index, share: best };
}

export interface FavouriteResult {
  userId: number;
  movieId: number;
  cluster: number;
  /** false when the user already had the movie (nothing counted twice) */
  added: boolean;
  /** the movie's count in the cluster after the call */
  count: number;
  /** true when the user was unknown and has just been placed in a cluster */
  newUser: boolean;
}

/**
 * The seed's updatedFavouriteMoviesList: the movie's count in the user's cluster +1 (or appended with 1),
 * the list re-ranked, and the movie added to the user's own history. A movie the user already has changes
 * nothing. An unknown user is placed into a cluster by the fixClusters rule and gets a history.
 */
export function addFavourite(model: ClusterModel, userId: number, movieId: number): FavouriteResult {
  if (model.clusters.length === 0) throw new Error('model has no clusters');
  let i = userIndex(model, userId);
  let newUser = false;
  if (i < 0) {
    newUser = true;
    const cluster = model.clusters[placeUser(model.clusters.map((c) => new Set(c.movieIds)), [movieId]).index];
    // insert the user keeping userIds ascending
    i = model.userIds.findIndex((u) => u > userId);
    if (i < 0) i = model.userIds.length;
    model.userIds.splice(i, 0, userId);
    model.userCluster.splice(i, 0, cluster.id);
    model.userMoviePtr.splice(i + 1, 0, model.userMoviePtr[i]);
    cluster.size++;
    if (model.recent) {
      model.recent.ptr.splice(i + 1, 0, model.recent.ptr[i]);
    }
    if (model.mix) {
      // taste model: the new user's mix is the one cluster it was placed in
      const at = model.mix.ptr[i];
      model.mix.clusters.splice(at, 0, cluster.id);
      model.mix.weights.splice(at, 0, 1);
      model.mix.ptr.splice(i + 1, 0, at);
      for (let j = i + 1; j < model.mix.ptr.length; j++) model.mix.ptr[j]++;
    }
  }
  const cluster = clusterById(model, model.userCluster[i]);
  const start = model.userMoviePtr[i];
  const end = model.userMoviePtr[i + 1];
  let pos = start;
  while (pos < end && model.userMovies[pos] < movieId) pos++;
  if (pos < end && model.userMovies[pos] === movieId) {
    const k = cluster.movieIds.indexOf(movieId);
    return { userId, movieId, cluster: cluster.id, added: false, count: k >= 0 ? cluster.counts[k] : 0, newUser };
  }
  model.userMovies.splice(pos, 0, movieId);
  for (let j = i + 1; j < model.userMoviePtr.length; j++) model.userMoviePtr[j]++;
  if (model.recent) {
    // CL-EASE: the favourite is the user's newest movie
    const { ptr, movies } = model.recent;
    movies.splice(ptr[i + 1], 0, movieId);
    for (let j = i + 1; j < ptr.length; j++) ptr[j]++;
  }
  const count = incrementRanked(cluster, movieId);
  if (cluster.local) {
    const k = cluster.local.movieIds.indexOf(movieId);
    if (k >= 0) cluster.local.counts[k] = count;
  }
  incrementRanked(model.popular, movieId);
  return { userId, movieId, cluster: cluster.id, added: true, count, newUser };
}
