// The seed project's recommender, faithfully: per-cluster movie counts, fixClusters, recommendations,
// favourites, a user's movies, and the global most-popular fallback. Pure data in and out.
import { incrementRanked, rankPairs, type RankedList } from './ranked';
import { CsrMatrix, DataReport, InputError } from './types';

export { incrementRanked, rankPairs, type RankedList };


export interface ClusterList extends RankedList {
  id: number;
  /** number of users assigned to the cluster */
  size: number;
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
}

/** Soft membership (taste model): user i's clusters are clusters[ptr[i] .. ptr[i+1]) with weights
 * summing to 1, highest weight first. A movie's score is Σ weight · count / size over those clusters. */
export interface UserMix {
  ptr: number[];
  clusters: number[];
  weights: number[];
}

export interface MoveRecord {
  userId: number;
  from: number;
  to: number;
  /** share of the user's movies in the destination's original list (before any move) */
  share: number;
}

export interface FixReport {
  minClusterSize: number;
  sizesBefore: Record<number, number>;
  sizesAfter: Record<number, number>;
  dissolved: number[];
  moves: MoveRecord[];
}

// ----------------------------------------------------------------------------------------------
// ranked lists

/** Column sums of a binary matrix as a ranked list (movies nobody has are omitted). */
export function popularList(x: CsrMatrix): RankedList {
  const counts = new Int32Array(x.nCols);
  for (let p = 0; p < x.indptr[x.nRows]; p++) counts[x.indices[p]]++;
  const ids: number[] = [];
  const cs: number[] = [];
  for (let c = 0; c < x.nCols; c++) {
    if (counts[c] > 0) {
      ids.push(x.colIds[c]);
      cs.push(counts[c]);
    }
  }
  return rankPairs(ids, cs);
}

/** Per-cluster movie counts (how many of the cluster's users have each movie), each list ranked.
 * O(nnz + k·nCols) with one reused counter array. */
export function clusterCounts(x: CsrMatrix, labels: ArrayLike<number>): ClusterList[] {
  if (labels.length !== x.nRows) {
    throw new Error(`clusterCounts: ${labels.length} labels for ${x.nRows} users`);
  }
  const members = new Map<number, number[]>();
  for (let r = 0; r < x.nRows; r++) {
    const c = labels[r];
    let m = members.get(c);
    if (!m) members.set(c, (m = []));
    m.push(r);
  }
  const counter = new Int32Array(x.nCols);
  const out: ClusterList[] = [];
  for (const id of [...members.keys()].sort((a, b) => a - b)) {
    const rows = members.get(id)!;
    const touched: number[] = [];
    for (const r of rows) {
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        const c = x.indices[p];
        if (counter[c]++ === 0) touched.push(c);
      }
    }
    const ranked = rankPairs(
      touched.map((c) => x.colIds[c]),
      touched.map((c) => counter[c]),
    );
    for (const c of touched) counter[c] = 0;
    out.push({ id, size: rows.length, ...ranked });
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// fixClusters

/**
 * The seed's fixClusters. Clusters with fewer than `minClusterSize` users are dissolved, in ascending
 * cluster id; each of their users, in ascending user id, moves to the REMAINING cluster whose ORIGINAL
 * movie list (as counted before any move) holds the largest share of the user's movies (ties → lowest
 * cluster id). As in the seed, the shares of every user are measured against those original lists: movies
 * appended for earlier users do not count for later ones. The user's movies missing from the destination
 * list are appended at its end with count 1 (ascending movieId); counts already in the list are not
 * changed. One deliberate difference: a movie is appended to a list at most once. The seed appends it
 * again for every moved user who has it, so its lists can recommend a movie twice; with the repeats
 * removed they are these lists. If no cluster is large enough, nothing is dissolved.
 */
export function fixClusters(
  clusters: ClusterList[],
  labels: Int32Array | number[],
  userIds: ArrayLike<number>,
  moviesOf: (row: number) => ArrayLike<number>,
  minClusterSize: number,
): { clusters: ClusterList[]; labels: number[]; report: FixReport } {
  const sizesBefore: Record<number, number> = {};
  for (const c of clusters) sizesBefore[c.id] = c.size;
  const small = clusters.filter((c) => c.size < minClusterSize).map((c) => c.id);
  const keep = clusters.filter((c) => c.size >= minClusterSize);
  const newLabels = Array.from(labels);
  const report: FixReport = { minClusterSize, sizesBefore, sizesAfter: { ...sizesBefore }, dissolved: [], moves: [] };
  if (keep.length === 0 || small.length === 0) return { clusters, labels: newLabels, report };

  const lists = keep.map((c) => ({ ...c, movieIds: [...c.movieIds], counts: [...c.counts] }));
  // shares are measured against the lists as they were before any move (the seed's
  // each_cluster_movies_list); `present` also holds the appended movies, so each is appended once
  const original = keep.map((c) => new Set(c.movieIds));
  const present = keep.map((c) => new Set(c.movieIds));
  const smallSet = new Set(small);
  // users of each dissolved cluster, ascending user id (rows are in ascending user id already)
  const byCluster = new Map<number, number[]>(small.map((id) => [id, []]));
  for (let r = 0; r < newLabels.length; r++) {
    if (smallSet.has(newLabels[r])) byCluster.get(newLabels[r])!.push(r);
  }
  for (const id of small) {
    for (const r of byCluster.get(id)!) {
      const movies = Array.from(moviesOf(r)).sort((a, b) => a - b);
      const { index: best, share: bestShare } = placeUser(original, movies);
      const dest = lists[best];
      for (const m of movies) {
        if (!present[best].has(m)) {
          dest.movieIds.push(m);
          dest.counts.push(1);
          present[best].add(m);
        }
      }
      dest.size++;
      newLabels[r] = dest.id;
      report.moves.push({ userId: userIds[r], from: id, to: dest.id, share: bestShare });
    }
    report.dissolved.push(id);
  }
  report.sizesAfter = {};
  for (const c of lists) report.sizesAfter[c.id] = c.size;
  return { clusters: lists, labels: newLabels, report };
}

// ----------------------------------------------------------------------------------------------
// building and serving

export function buildSeedModel(
  x: CsrMatrix,
  labels: ArrayLike<number>,
  minClusterSize: number,
): { model: ClusterModel; fix: FixReport } {
  const counted = clusterCounts(x, labels);
  const moviesOf = (r: number) => {
    const out: number[] = [];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) out.push(x.colIds[x.indices[p]]);
    return out;
  };
  const fixed = fixClusters(counted, Array.from(labels), x.rowIds, moviesOf, minClusterSize);
  const userMovies: number[] = new Array(x.indptr[x.nRows]);
  for (let p = 0; p < userMovies.length; p++) userMovies[p] = x.colIds[x.indices[p]];
  const model: ClusterModel = {
    userIds: Array.from(x.rowIds),
    userCluster: fixed.labels,
    userMoviePtr: Array.from(x.indptr),
    userMovies,
    clusters: fixed.clusters,
    popular: popularList(x),
  };
  return { model, fix: fixed.report };
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
  const count = incrementRanked(cluster, movieId);
  incrementRanked(model.popular, movieId);
  return { userId, movieId, cluster: cluster.id, added: true, count, newUser };
}

// ----------------------------------------------------------------------------------------------
// snapshot: one versioned JSON document the CLI and the serverless layer both read and write

export const SNAPSHOT_SCHEMA_VERSION = 1;

export type EngineName = 'default' | 'ml-kmeans';

export interface TrainingParams {
  /** absent means 'seed' (the faithful reproduction); 'taste' is functions/core/recommender's model */
  algorithm?: 'seed' | 'taste';
  k: number;
  nInit: number;
  maxIter: number;
  tol: number;
  seed: number;
  minClusterSize: number;
  engine: EngineName;
}

/** The seed project's parameters. */
export const SEED_PARAMS: TrainingParams = {
  k: 15,
  nInit: 10,
  maxIter: 300,
  tol: 1e-4,
  seed: 0,
  minClusterSize: 6,
  engine: 'default',
};

export interface TrainingSummary {
  inertia: number;
  iterations: number;
  inertias: number[];
  seconds: Record<string, number>;
  fix: FixReport;
  /** which clustering engine produced the labels */
  engine?: string;
  /** adjustments made to the requested parameters, in plain words */
  notes?: string[];
  /** taste model: the settings it was trained with and how they were chosen (JSON) */
  taste?: Record<string, unknown>;
  /** held-out metrics of this version on its own data, and the verdict against most-popular (JSON) */
  holdout?: Record<string, unknown>;
}

export interface ModelSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  kind: 'movierec-model';
  createdAt: string;
  params: TrainingParams;
  data: DataReport;
  training: TrainingSummary;
  popular: RankedList;
  clusters: ClusterList[];
  users: { ids: number[]; cluster: number[]; moviePtr: number[]; movies: number[]; mix?: UserMix };
}

export function toSnapshot(
  model: ClusterModel,
  meta: { params: TrainingParams; data: DataReport; training: TrainingSummary; createdAt?: string },
): ModelSnapshot {
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    kind: 'movierec-model',
    createdAt: meta.createdAt ?? new Date().toISOString(),
    params: meta.params,
    data: meta.data,
    training: meta.training,
    popular: model.popular,
    clusters: model.clusters,
    users: {
      ids: model.userIds,
      cluster: model.userCluster,
      moviePtr: model.userMoviePtr,
      movies: model.userMovies,
      ...(model.mix ? { mix: model.mix } : {}),
    },
  };
}

/** Parse and validate a snapshot document (structure and internal consistency). */
export function fromSnapshot(doc: unknown, source = 'model'): { model: ClusterModel; snapshot: ModelSnapshot } {
  const fail = (why: string): never => {
    throw new InputError('bad_model', `${source} is not a valid movierec model: ${why}.`);
  };
  if (!doc || typeof doc !== 'object') fail('not a JSON object');
  const s = doc as ModelSnapshot;
  if (s.kind !== 'movierec-model') fail('missing kind "movierec-model"');
  if (s.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) {
    fail(`schema version ${s.schemaVersion} is not supported (expected ${SNAPSHOT_SCHEMA_VERSION}); retrain it`);
  }
  const u = s.users;
  if (!u || !Array.isArray(u.ids) || !Array.isArray(u.cluster) || !Array.isArray(u.moviePtr) || !Array.isArray(u.movies)) {
    fail('users section is incomplete');
  }
  if (u.cluster.length !== u.ids.length || u.moviePtr.length !== u.ids.length + 1) fail('users arrays disagree in length');
  if (u.moviePtr[u.ids.length] !== u.movies.length) fail('users.moviePtr does not end at users.movies.length');
  for (let i = 1; i < u.ids.length; i++) if (!(u.ids[i] > u.ids[i - 1])) fail('user ids are not strictly ascending');
  if (!Array.isArray(s.clusters) || s.clusters.length === 0) fail('no clusters');
  const ids = new Set(s.clusters.map((c) => c.id));
  for (const c of u.cluster) if (!ids.has(c)) fail(`a user is assigned to unknown cluster ${c}`);
  if (u.mix !== undefined) {
    const x = u.mix;
    if (!x || !Array.isArray(x.ptr) || !Array.isArray(x.clusters) || !Array.isArray(x.weights)) fail('users.mix is incomplete');
    if (x.ptr.length !== u.ids.length + 1 || x.ptr[0] !== 0 || x.ptr[u.ids.length] !== x.clusters.length) {
      fail('users.mix.ptr does not match the users');
    }
    if (x.weights.length !== x.clusters.length) fail('users.mix arrays disagree in length');
    for (const c of x.clusters) if (!ids.has(c)) fail(`users.mix refers to unknown cluster ${c}`);
  }
  const model: ClusterModel = {
    userIds: u.ids,
    userCluster: u.cluster,
    userMoviePtr: u.moviePtr,
    userMovies: u.movies,
    clusters: s.clusters,
    popular: s.popular,
    ...(u.mix ? { mix: u.mix } : {}),
  };
  return { model, snapshot: s };
}
