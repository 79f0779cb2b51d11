// Protocol v1 train/test split (steps 1–4 of quality.py's header), on parsed Interactions.
//
//  - implicit feedback: every row is one interaction whatever its rating;
//  - duplicate (user, movie) rows collapse to the EARLIEST timestamp (ties: the row first in the
//    input, as pandas' stable sort + drop_duplicates(keep="first") does);
//  - users with < 5 interactions (after collapsing) are removed;
//  - each user's rows are sorted by (timestamp, movieId); the last max(1, floor(0.2·n + 1e-9))
//    are TEST, the rest TRAIN.
//
// Work is O(n) bucketing by user plus a small sort per user, so it scales to ml-25m without a
// global comparator sort.

import { CsrMatrix, InputError, Interactions } from '../types';
import { MIN_INTERACTIONS, PROTOCOL_VERSION, testCount } from './protocol';

/** Same keys and meaning as quality.py's make_split stats. */
export interface SplitStats {
  duplicates_collapsed: number;
  users_dropped_lt5: number;
  users: number;
  interactions: number;
  train_rows: number;
  test_rows: number;
  train_movies: number;
  test_cold_rows: number;
}

/** TEST rows grouped by user: rows of user row r (an index into `EvalSplit.userIds`) are
 * `indptr[r] .. indptr[r+1]`, in (timestamp, movieId) order. Movie ids are RAW ids (a test movie
 * may be absent from TRAIN). Ratings are NaN where the input had none. */
export interface TestRows {
  indptr: Int32Array;
  movieIds: Float64Array;
  timestamps: Float64Array;
  ratings: Float64Array;
  length: number;
}

/** Zeroed TEST rows for `nUsers` users and `nTest` rows (filled by the split and by readSplit). */
export function emptyTestRows(nUsers: number, nTest: number): TestRows {
  return {
    indptr: new Int32Array(nUsers + 1),
    movieIds: new Float64Array(nTest),
    timestamps: new Float64Array(nTest),
    ratings: new Float64Array(nTest),
    length: nTest,
  };
}

export interface EvalSplit {
  protocolVersion: number;
  /** raw ids of every kept user, ascending; every one has ≥ 4 TRAIN and ≥ 1 TEST rows */
  userIds: number[];
  /** raw ids of every TRAIN movie, ascending */
  movieIds: number[];
  /** TRAIN as Interactions (what a model may train on): `users[i]` indexes `userIds`, `movies[i]`
   * indexes `movieIds` (both ascending-id orders, NOT first appearance), rows in
   * (userId, timestamp, movieId) order, with timestamps and ratings. */
  train: Interactions;
  /** binary TRAIN user × movie matrix: rows = userIds, cols = movieIds, columns sorted */
  trainMatrix: CsrMatrix;
  test: TestRows;
  stats: SplitStats;
}

export interface SplitOptions {
  /** raw user ids removed before anything else (quality.py --drop-users) */
  dropUsers?: Iterable<number>;
}

/** Applies protocol v1 to parsed ratings. Needs `timestamps`; throws InputError without them. */
export function splitInteractions(data: Interactions, opts: SplitOptions = {}): EvalSplit {
  const n = data.length;
  const ts = data.timestamps;
  if (!ts) {
    throw new InputError(
      'no_timestamps',
      'The evaluation split is temporal, so it needs a timestamp for every rating: read the ratings with timestamps (a userId,movieId,rating,timestamp file).',
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(ts[i])) {
      throw new InputError(
        'missing_timestamp',
        `Rating row ${i + 1} (user ${data.userIds[data.users[i]]}, movie ${data.movieIds[data.movies[i]]}) has no timestamp; the temporal evaluation split needs one on every row.`,
        { row: i + 1 },
      );
    }
  }
  const ratingsIn = data.ratings;
  const nUsersIn = data.userIds.length;
  const nMoviesIn = data.movieIds.length;

  // rank of each input movie index by raw id, so per-user sorts compare small ints
  const movieOrder = sortedIndexOrder(data.movieIds);
  const movieRank = new Int32Array(nMoviesIn);
  for (let r = 0; r < nMoviesIn; r++) movieRank[movieOrder[r]] = r;

  const dropped = new Set<number>(opts.dropUsers ?? []);

  // bucket rows by user (stable: input order within each user)
  const start = new Int32Array(nUsersIn + 1);
  for (let i = 0; i < n; i++) start[data.users[i] + 1]++;
  for (let u = 0; u < nUsersIn; u++) start[u + 1] += start[u];
  const fill = start.slice(0, nUsersIn);
  const byUser = new Int32Array(n);
  for (let i = 0; i < n; i++) byUser[fill[data.users[i]]++] = i;

  const userOrder = sortedIndexOrder(data.userIds);

  // pass 1: per user (ascending raw id) collapse duplicates, filter, order, cut
  let duplicates = 0;
  let droppedLt5 = 0;
  const keptUsers: number[] = []; // input user indices
  const keptRows: Int32Array[] = []; // per kept user, input row ids in (timestamp, movieId) order
  for (const u of userOrder) {
    if (dropped.has(data.userIds[u])) continue;
    const rows = Array.from(byUser.subarray(start[u], start[u + 1]));
    if (rows.length === 0) continue;
    // (movie, timestamp, input row) — the last key makes the tie rule explicit
    rows.sort((a, b) => movieRank[data.movies[a]] - movieRank[data.movies[b]] || ts[a] - ts[b] || a - b);
    const uniq: number[] = [];
    for (let j = 0; j < rows.length; j++) {
      if (j > 0 && data.movies[rows[j]] === data.movies[rows[j - 1]]) duplicates++;
      else uniq.push(rows[j]);
    }
    if (uniq.length < MIN_INTERACTIONS) {
      droppedLt5++;
      continue;
    }
    uniq.sort((a, b) => ts[a] - ts[b] || movieRank[data.movies[a]] - movieRank[data.movies[b]]);
    keptUsers.push(u);
    keptRows.push(Int32Array.from(uniq));
  }

  // TRAIN movies: distinct movies among TRAIN rows, ascending raw id
  const nKept = keptUsers.length;
  const inTrain = new Uint8Array(nMoviesIn);
  let nTrain = 0;
  let nTest = 0;
  for (const rows of keptRows) {
    const cut = rows.length - testCount(rows.length);
    for (let j = 0; j < cut; j++) inTrain[data.movies[rows[j]]] = 1;
    nTrain += cut;
    nTest += rows.length - cut;
  }
  const trainCol = new Int32Array(nMoviesIn).fill(-1);
  const movieIds: number[] = [];
  for (const m of movieOrder) {
    if (inTrain[m]) {
      trainCol[m] = movieIds.length;
      movieIds.push(data.movieIds[m]);
    }
  }

  // pass 2: materialise TRAIN interactions, the CSR matrix and TEST rows
  const userIds = keptUsers.map((u) => data.userIds[u]);
  const tUsers = new Int32Array(nTrain);
  const tMovies = new Int32Array(nTrain);
  const tTimes = new Float64Array(nTrain);
  const tRatings = new Float32Array(nTrain);
  const indptr = new Int32Array(nKept + 1);
  const indices = new Int32Array(nTrain);
  const test = emptyTestRows(nKept, nTest);
  let t = 0;
  let e = 0;
  let cold = 0;
  for (let r = 0; r < nKept; r++) {
    const rows = keptRows[r];
    const cut = rows.length - testCount(rows.length);
    for (let j = 0; j < cut; j++) {
      const i = rows[j];
      tUsers[t] = r;
      tMovies[t] = trainCol[data.movies[i]];
      tTimes[t] = ts[i];
      tRatings[t] = ratingsIn ? ratingsIn[i] : NaN;
      indices[t] = tMovies[t];
      t++;
    }
    indices.subarray(indptr[r], t).sort();
    indptr[r + 1] = t;
    for (let j = cut; j < rows.length; j++) {
      const i = rows[j];
      const m = data.movies[i];
      if (!inTrain[m]) cold++;
      test.movieIds[e] = data.movieIds[m];
      test.timestamps[e] = ts[i];
      test.ratings[e] = ratingsIn ? ratingsIn[i] : NaN;
      e++;
    }
    test.indptr[r + 1] = e;
  }

  const train: Interactions = {
    userIds,
    movieIds,
    users: tUsers,
    movies: tMovies,
    timestamps: tTimes,
    ratings: tRatings,
    length: nTrain,
  };
  const trainMatrix: CsrMatrix = {
    nRows: nKept,
    nCols: movieIds.length,
    indptr,
    indices,
    values: null,
    rowIds: Float64Array.from(userIds),
    colIds: Float64Array.from(movieIds),
  };
  return {
    protocolVersion: PROTOCOL_VERSION,
    userIds,
    movieIds,
    train,
    trainMatrix,
    test,
    stats: {
      duplicates_collapsed: duplicates,
      users_dropped_lt5: droppedLt5,
      users: nKept,
      interactions: nTrain + nTest,
      train_rows: nTrain,
      test_rows: nTest,
      train_movies: movieIds.length,
      test_cold_rows: cold,
    },
  };
}

/** Indices 0..ids.length-1 ordered by ascending ids[i]. */
function sortedIndexOrder(ids: readonly number[]): Int32Array {
  const order = new Int32Array(ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const keys = Float64Array.from(ids);
  return Int32Array.from(Array.from(order).sort((a, b) => keys[a] - keys[b]));
}

// ---------------------------------------------------------------------------------------------
// per-user views

/** Row index of each user id (cached per split). */
const rowIndexCache = new WeakMap<EvalSplit, Map<number, number>>();
export function userRow(split: EvalSplit, userId: number): number | undefined {
  let idx = rowIndexCache.get(split);
  if (!idx) {
    idx = new Map(split.userIds.map((u, r) => [u, r]));
    rowIndexCache.set(split, idx);
  }
  return idx.get(userId);
}

/** Column index of each TRAIN movie id (cached per split). */
const colIndexCache = new WeakMap<EvalSplit, Map<number, number>>();
export function movieCol(split: EvalSplit, movieId: number): number | undefined {
  let idx = colIndexCache.get(split);
  if (!idx) {
    idx = new Map(split.movieIds.map((m, c) => [m, c]));
    colIndexCache.set(split, idx);
  }
  return idx.get(movieId);
}

/** Raw ids of the TRAIN movies of user row r, ascending. */
export function trainMoviesOf(split: EvalSplit, r: number): number[] {
  const { indptr, indices } = split.trainMatrix;
  const out: number[] = [];
  for (let p = indptr[r]; p < indptr[r + 1]; p++) out.push(split.movieIds[indices[p]]);
  return out;
}

/** Raw ids of the TEST movies of user row r, in (timestamp, movieId) order. */
export function testMoviesOf(split: EvalSplit, r: number): number[] {
  return Array.from(split.test.movieIds.subarray(split.test.indptr[r], split.test.indptr[r + 1]));
}

/** Per-user TEST sets keyed by raw user id (built on demand; O(test rows) memory). */
export function testSets(split: EvalSplit): Map<number, Set<number>> {
  return new Map(split.userIds.map((u, r) => [u, new Set(testMoviesOf(split, r))]));
}

/** Per-user TRAIN sets keyed by raw user id (built on demand; O(train rows) memory). */
export function trainSets(split: EvalSplit): Map<number, Set<number>> {
  return new Map(split.userIds.map((u, r) => [u, new Set(trainMoviesOf(split, r))]));
}

/** True when TRAIN column c is in user row r's TRAIN set (binary search in the sorted row). */
export function hasTrainCol(split: EvalSplit, r: number, c: number): boolean {
  const { indptr, indices } = split.trainMatrix;
  let lo = indptr[r];
  let hi = indptr[r + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = indices[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
