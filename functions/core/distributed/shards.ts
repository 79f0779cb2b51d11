// One partition's rows of the user × movie matrix, built from its buckets of every parse range with the
// single-function code (buildMatrix with its times): users ascending, duplicates collapsed, each cell's earliest
// timestamp. Columns are global (the movie index of the whole file), so shards concatenated in partition
// order are the single-function matrix, row for row.
import { IdIndex } from '../ratings/builder';
import { buildMatrix, indexOfId } from '../matrix';
import { unitRows } from '../recommender/features';
import type { CsrMatrix, Interactions } from '../types';
import type { Bucket } from './fragments';

export interface Shard {
  /** rows = this partition's users (ascending id), columns = global movie index */
  matrix: CsrMatrix;
  /** timestamps aligned with matrix.indices; null when not kept or any is missing */
  times: Float64Array | null;
  /** repeated (user, movie) rows collapsed */
  duplicates: number;
  /** false when some accepted row has no finite timestamp (the taste model then ignores recency) */
  timesFinite: boolean;
}

/** The partition's buckets (one per parse range, range order) → its matrix rows. */
export function buildShard(buckets: readonly Bucket[], movieIndex: Float64Array, withTimes: boolean): Shard {
  let n = 0;
  for (const b of buckets) n += b.users.length;
  const userIndex = new IdIndex();
  const movieIdx = new IdIndex();
  const users = new Int32Array(n);
  const movies = new Int32Array(n);
  const timestamps = withTimes ? new Float64Array(n) : undefined;
  let w = 0;
  for (const b of buckets) {
    for (let i = 0; i < b.users.length; i++, w++) {
      users[w] = userIndex.index(b.users[i]);
      movies[w] = movieIdx.index(b.movies[i]);
      if (timestamps) timestamps[w] = b.times ? b.times[i] : NaN;
    }
  }
  const x: Interactions = { userIds: userIndex.ids, movieIds: movieIdx.ids, users, movies, length: n, timestamps };
  const built = buildMatrix(x, { times: withTimes });
  const { matrix: local, duplicatesCollapsed } = built;
  const times = built.times ?? null;
  // local columns → global ones: both ascending, so each row's columns stay ascending
  const toGlobal = new Int32Array(local.nCols);
  for (let c = 0; c < local.nCols; c++) {
    const g = indexOfId(movieIndex, local.colIds[c]);
    if (g < 0) throw new Error(`movie ${local.colIds[c]} is missing from the movie index`);
    toGlobal[c] = g;
  }
  const nnz = local.indptr[local.nRows];
  const indices = new Int32Array(nnz);
  for (let p = 0; p < nnz; p++) indices[p] = toGlobal[local.indices[p]];
  const matrix: CsrMatrix = { nRows: local.nRows, nCols: movieIndex.length, indptr: local.indptr, indices, values: null, rowIds: local.rowIds, colIds: movieIndex };
  return { matrix, times, duplicates: duplicatesCollapsed, timesFinite: !withTimes || times !== null || n === 0 };
}

/** Per-column statistics of a shard (columns it touches, ascending): users holding the movie, and the sum
 * and sum of squares of the movie's unit-row values (the taste model's tolerance scale). */
export interface ColumnStats {
  cols: Int32Array;
  counts: Int32Array;
  unitSum: Float64Array;
  unitSq: Float64Array;
}

export function columnStats(x: CsrMatrix): ColumnStats {
  const d = x.nCols;
  const count = new Int32Array(d);
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  const unit = unitValues(x);
  // rows ascending per column, as the engine's column-wise pass adds them
  for (let r = 0; r < x.nRows; r++) {
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const j = x.indices[p];
      count[j]++;
      sum[j] += unit[p];
      sq[j] += unit[p] * unit[p];
    }
  }
  let m = 0;
  for (let j = 0; j < d; j++) if (count[j] > 0) m++;
  const out: ColumnStats = { cols: new Int32Array(m), counts: new Int32Array(m), unitSum: new Float64Array(m), unitSq: new Float64Array(m) };
  let w = 0;
  for (let j = 0; j < d; j++) {
    if (count[j] === 0) continue;
    out.cols[w] = j;
    out.counts[w] = count[j];
    out.unitSum[w] = sum[j];
    out.unitSq[w] = sq[j];
    w++;
  }
  return out;
}

/** The unit-row values of a binary matrix: recommender/features unitRows's, so the shards cluster exactly the
 * rows the single function clusters. */
export function unitValues(x: CsrMatrix): Float64Array {
  return unitRows(x).values as Float64Array;
}

/**
 * sklearn's tolerance scale (mean over columns of each column's variance) from the shards' column
 * statistics, added in partition order. Binary rows: a column's sum and sum of squares are its count, so
 * this equals the engine's meanVariance exactly; unit rows: up to rounding.
 */
export function meanVarianceOf(stats: readonly ColumnStats[], n: number, d: number, features: 'binary' | 'unit'): number {
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const s of stats) {
    for (let i = 0; i < s.cols.length; i++) {
      const j = s.cols[i];
      if (features === 'binary') {
        sum[j] += s.counts[i];
        sq[j] += s.counts[i];
      } else {
        sum[j] += s.unitSum[i];
        sq[j] += s.unitSq[i];
      }
    }
  }
  let total = 0;
  for (let j = 0; j < d; j++) {
    const mean = sum[j] / n;
    const v = sq[j] / n - mean * mean;
    total += v > 0 ? v : 0;
  }
  return total / d;
}
