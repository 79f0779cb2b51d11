// A hold-out carved from a training matrix, in the shape the evaluation code scores (EvalSplit), for
// (a) choosing the taste model's settings inside the training data and (b) checking a new model
// version against most-popular before it is published.
//
// Per user with ≥ 5 movies (at most `maxTestUsers` of them, a seeded sample): the last
// max(1, floor(0.2·n)) movies go to TEST — last by (timestamp, movieId) when timestamps are given
// (protocol v1's temporal rule), else a seeded random choice. Every other user keeps all of its
// movies in TRAIN, so a model trained on the hold-out's TRAIN sees almost the same data as the real
// one. Columns stay those of the input (a movie whose every row went to TEST keeps an empty column).
import { EvalSplit } from '../evaluate/split';
import { MIN_INTERACTIONS, PROTOCOL_VERSION, testCount } from '../evaluate/protocol';
import { Rng } from '../kmeans/prng';
import { CsrMatrix, InputError, Interactions } from '../types';

export interface HoldoutOptions {
  /** per stored entry of `x` (aligned with x.indices): when the user watched it; absent → random */
  times?: Float64Array;
  seed?: number;
  /** sample at most this many test users (default: all eligible users) */
  maxTestUsers?: number;
}

export interface Holdout {
  split: EvalSplit;
  mode: 'temporal' | 'random';
  /** rows (of x) that have TEST movies */
  testRows: number[];
  /** `times` restricted to the TRAIN entries (aligned with split.trainMatrix.indices) */
  trainTimes?: Float64Array;
}

export function holdoutSplit(x: CsrMatrix, opts: HoldoutOptions = {}): Holdout {
  const times = opts.times;
  if (times && times.length < x.indptr[x.nRows]) {
    throw new RangeError(`holdoutSplit: ${times.length} timestamps for ${x.indptr[x.nRows]} matrix entries`);
  }
  const rng = new Rng(opts.seed ?? 0, 7);
  let eligible: number[] = [];
  for (let r = 0; r < x.nRows; r++) if (x.indptr[r + 1] - x.indptr[r] >= MIN_INTERACTIONS) eligible.push(r);
  const max = opts.maxTestUsers ?? Infinity;
  if (eligible.length > max) {
    // partial Fisher–Yates: a seeded sample of `max` rows, then back in row order
    for (let i = 0; i < max; i++) {
      const j = i + rng.int(eligible.length - i);
      [eligible[i], eligible[j]] = [eligible[j], eligible[i]];
    }
    eligible = eligible.slice(0, max).sort((a, b) => a - b);
  }
  if (eligible.length === 0) {
    throw new InputError(
      'no_holdout_users',
      `No user has ${MIN_INTERACTIONS} or more movies, so no hold-out can be carved to check the model; upload more ratings per user.`,
    );
  }
  const isTest = new Uint8Array(x.indptr[x.nRows]);
  for (const r of eligible) {
    const a = x.indptr[r];
    const n = x.indptr[r + 1] - a;
    const pos = Array.from({ length: n }, (_, i) => a + i);
    if (times) {
      pos.sort((p, q) => times[p] - times[q] || x.indices[p] - x.indices[q]);
    } else {
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [pos[i], pos[j]] = [pos[j], pos[i]];
      }
    }
    for (let t = n - testCount(n); t < n; t++) isTest[pos[t]] = 1;
  }

  const nnz = x.indptr[x.nRows];
  let nTest = 0;
  for (let p = 0; p < nnz; p++) nTest += isTest[p];
  const indptr = new Int32Array(x.nRows + 1);
  const indices = new Int32Array(nnz - nTest);
  const users = new Int32Array(nnz - nTest);
  const tPtr = new Int32Array(x.nRows + 1);
  const tMovies = new Float64Array(nTest);
  const trainTimes = times ? new Float64Array(nnz - nTest) : undefined;
  let w = 0;
  let e = 0;
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    // test movies in (time, movieId) order when temporal, else movieId order
    const testPos: number[] = [];
    for (let p = a; p < b; p++) {
      if (isTest[p]) testPos.push(p);
      else {
        indices[w] = x.indices[p];
        users[w] = r;
        if (trainTimes) trainTimes[w] = times![p];
        w++;
      }
    }
    if (times) testPos.sort((p, q) => times[p] - times[q] || x.indices[p] - x.indices[q]);
    for (const p of testPos) tMovies[e++] = x.colIds[x.indices[p]];
    indptr[r + 1] = w;
    tPtr[r + 1] = e;
  }
  const userIds = Array.from(x.rowIds);
  const movieIds = Array.from(x.colIds);
  const trainMatrix: CsrMatrix = { ...x, indptr, indices, values: null };
  const train: Interactions = { userIds, movieIds, users, movies: indices, length: w };
  const split: EvalSplit = {
    protocolVersion: PROTOCOL_VERSION,
    userIds,
    movieIds,
    train,
    trainMatrix,
    test: { indptr: tPtr, movieIds: tMovies, timestamps: new Float64Array(nTest).fill(NaN), ratings: new Float64Array(nTest).fill(NaN), length: nTest },
    stats: {
      duplicates_collapsed: 0,
      users_dropped_lt5: 0,
      users: x.nRows,
      interactions: nnz,
      train_rows: w,
      test_rows: nTest,
      train_movies: movieIds.length,
      test_cold_rows: 0,
    },
  };
  return { split, mode: times ? 'temporal' : 'random', testRows: eligible, trainTimes };
}

/**
 * Timestamps aligned with the matrix entries (what `holdoutSplit` takes), from the Interactions the
 * matrix was built from: for a duplicated (user, movie) the earliest timestamp, as protocol v1 does.
 * Returns undefined when the interactions carry no timestamps (or any is missing).
 */
export function cellTimes(data: Interactions, x: CsrMatrix): Float64Array | undefined {
  const ts = data.timestamps;
  if (!ts) return undefined;
  const out = new Float64Array(x.indptr[x.nRows]).fill(Infinity);
  const rowOf = denseToSorted(data.userIds, x.rowIds);
  const colOf = denseToSorted(data.movieIds, x.colIds);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(ts[i])) return undefined;
    const r = rowOf[data.users[i]];
    const c = colOf[data.movies[i]];
    if (r < 0 || c < 0) continue;
    let lo = x.indptr[r];
    let hi = x.indptr[r + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = x.indices[mid];
      if (v === c) {
        if (ts[i] < out[mid]) out[mid] = ts[i];
        break;
      }
      if (v < c) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  for (let p = 0; p < out.length; p++) if (out[p] === Infinity) return undefined;
  return out;
}

/** dense id index → position of that raw id in the ascending `sorted` ids (-1 if absent) */
function denseToSorted(ids: readonly number[], sorted: Float64Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    let lo = 0;
    let hi = sorted.length - 1;
    out[i] = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] === ids[i]) {
        out[i] = mid;
        break;
      }
      if (sorted[mid] < ids[i]) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return out;
}
