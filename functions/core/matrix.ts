// Sparse binary user × movie matrix (CSR on typed arrays). Built with one counting sort by row, then each
// row's columns sorted in place and adjacent duplicates collapsed. No dense user × movie array is ever
// allocated.
import type { CsrMatrix, DataReport, Interactions } from './types';

export interface BuiltMatrix {
  matrix: CsrMatrix;
  /** accepted rows that repeated an existing (user, movie) pair */
  duplicatesCollapsed: number;
  /** with `times`: each entry's timestamp (aligned with matrix.indices), the earliest of a duplicated pair —
   * what holdout.ts cellTimes computes from the finished matrix; undefined when the interactions carry no
   * timestamps or any is not finite */
  times?: Float64Array;
  /** with `ages` (and times): each entry's age in its row, as recommender/features.ts entryAges(matrix, times) */
  ages?: Int32Array;
}

export interface BuildOptions {
  /** also carry each entry's timestamp through the build (BuiltMatrix.times) */
  times?: boolean;
  /** also each entry's age in its row (BuiltMatrix.ages; needs `times`): a row whose ratings come in
   * time order in the file gets its ages from the row sort's permutation, without a sort by time */
  ages?: boolean;
}

export function buildMatrix(x: Interactions, opts: BuildOptions = {}): BuiltMatrix {
  const { rank: rowOfUser, sorted: rowIds } = rankIds(x.userIds);
  const { rank: colOfMovie, sorted: colIds } = rankIds(x.movieIds);
  const nRows = rowIds.length;
  const nCols = colIds.length;
  const n = x.length;
  const users = x.users;
  const movies = x.movies;

  // Pass 1: count each row's entries. Pass 2: drop each entry's column into its row; ratings files group
  // a user's rows together, so this writes almost sequentially (a first pass bucketing by column, which
  // made the rows come out sorted, scattered 25M writes twice across the whole array and needed a
  // second nnz-sized array).
  const rowStart = new Int32Array(nRows + 1);
  for (let k = 0; k < n; k++) rowStart[rowOfUser[users[k]] + 1]++;
  for (let r = 0; r < nRows; r++) rowStart[r + 1] += rowStart[r];
  const cols = new Int32Array(n);
  const rowFill = rowStart.slice(0, nRows);
  const ts = opts.times ? finiteTimes(x) : undefined;
  if (ts === undefined) {
    for (let k = 0; k < n; k++) cols[rowFill[rowOfUser[users[k]]]++] = colOfMovie[movies[k]];
    const { indptr, w } = sortRows(cols, rowStart, nRows);
    const indices = w === n ? cols : cols.slice(0, w);
    return { matrix: { nRows, nCols, indptr, indices, values: null, rowIds, colIds }, duplicatesCollapsed: n - w };
  }
  // the timestamps travel with their columns: placed alongside, permuted by the row sort, and a
  // duplicated pair keeps its earliest (instead of finding every rating's cell afterwards)
  const tv = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const at = rowFill[rowOfUser[users[k]]]++;
    cols[at] = colOfMovie[movies[k]];
    tv[at] = ts[k];
  }
  const ages = opts.ages ? new Int32Array(n) : null;
  const { indptr, w } = sortRowsWithTimes(cols, tv, ages, rowStart, nRows, nCols);
  const indices = w === n ? cols : cols.slice(0, w);
  const built: BuiltMatrix = {
    matrix: { nRows, nCols, indptr, indices, values: null, rowIds, colIds },
    duplicatesCollapsed: n - w,
    times: w === n ? tv : tv.slice(0, w),
  };
  if (ages !== null) built.ages = w === n ? ages : ages.slice(0, w);
  return built;
}

/** The interactions' timestamps when present and all finite (cellTimes' rule), else undefined. */
function finiteTimes(x: Interactions): Float64Array | undefined {
  const ts = x.timestamps;
  if (!ts) return undefined;
  for (let k = 0; k < x.length; k++) if (!Number.isFinite(ts[k])) return undefined;
  return ts;
}

/** Sort each row's columns (a numeric typed-array sort, skipped when the row is already ascending), then
 * collapse duplicates (adjacent after sorting), compacting in place. */
function sortRows(cols: Int32Array, rowStart: Int32Array, nRows: number): { indptr: Int32Array; w: number } {
  const indptr = new Int32Array(nRows + 1);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const p0 = rowStart[r];
    const e = rowStart[r + 1];
    if (!ascending(cols, p0, e)) cols.subarray(p0, e).sort();
    let prev = -1;
    for (let p = p0; p < e; p++) {
      const c = cols[p];
      if (c !== prev) {
        cols[w++] = c;
        prev = c;
      }
    }
    indptr[r + 1] = w;
  }
  return { indptr, w };
}

/** sortRows, with each entry's time moved along with its column; a duplicated column keeps its earliest
 * time. An unsorted row is sorted by one numeric key per entry, column · 2^b + position in the row (a
 * Uint32 key when it fits, else an exact double), which also gives each sorted entry's position in the
 * file. With `ages`, each kept entry's age in its row: from those positions when the row's times rise
 * strictly in file order and it had no duplicate, else by rowAges. */
function sortRowsWithTimes(
  cols: Int32Array,
  tv: Float64Array,
  ages: Int32Array | null,
  rowStart: Int32Array,
  nRows: number,
  nCols: number,
): { indptr: Int32Array; w: number } {
  let longest = 0;
  for (let r = 0; r < nRows; r++) longest = Math.max(longest, rowStart[r + 1] - rowStart[r]);
  const bits = Math.max(1, Math.ceil(Math.log2(longest + 1)));
  const scale = 2 ** bits;
  const small = nCols * scale <= 2 ** 32;
  const keys32 = small ? new Uint32Array(longest) : null;
  const keys64 = small ? null : new Float64Array(longest);
  const tmp = new Float64Array(longest);
  const from = new Int32Array(longest);
  const ageKeys = new Float64Array(ages !== null ? longest : 0);
  const indptr = new Int32Array(nRows + 1);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const p0 = rowStart[r];
    const e = rowStart[r + 1];
    const len = e - p0;
    let inTimeOrder = ages !== null;
    for (let p = p0 + 1; p < e && inTimeOrder; p++) inTimeOrder = tv[p] > tv[p - 1];
    const sorted = ascending(cols, p0, e);
    if (!sorted) {
      if (keys32 !== null) {
        const k = keys32.subarray(0, len);
        for (let i = 0; i < len; i++) k[i] = cols[p0 + i] * scale + i;
        k.sort();
        for (let j = 0; j < len; j++) {
          const key = k[j];
          const i = key & (scale - 1);
          cols[p0 + j] = key >>> bits;
          tmp[j] = tv[p0 + i];
          from[j] = i;
        }
      } else {
        const k = keys64!.subarray(0, len);
        for (let i = 0; i < len; i++) k[i] = cols[p0 + i] * scale + i;
        k.sort();
        for (let j = 0; j < len; j++) {
          const key = k[j];
          const c = Math.floor(key / scale);
          const i = key - c * scale;
          cols[p0 + j] = c;
          tmp[j] = tv[p0 + i];
          from[j] = i;
        }
      }
      tv.set(tmp.subarray(0, len), p0);
    }
    const w0 = w;
    let prev = -1;
    for (let p = p0; p < e; p++) {
      const c = cols[p];
      if (c !== prev) {
        cols[w] = c;
        tv[w] = tv[p];
        w++;
        prev = c;
      } else if (tv[p] < tv[w - 1]) tv[w - 1] = tv[p];
    }
    indptr[r + 1] = w;
    if (ages !== null) {
      // the newest (last in the file) is age 0
      if (inTimeOrder && w - w0 === len) for (let j = 0; j < len; j++) ages[w0 + j] = len - 1 - (sorted ? j : from[j]);
      else rowAges(tv, w0, w - w0, ages, ageKeys);
    }
  }
  return { indptr, w };
}

/**
 * The ages of one row's entries a..a+n (ages[p] = how many of them are newer): ranked by (time, position),
 * the position ascending with movieId. One numeric key per entry, time · 2^b + position, when the times are
 * integers small enough for the key to be exact, else a comparator. `keys` holds at least n.
 */
export function rowAges(times: Float64Array, a: number, n: number, ages: Int32Array, keys: Float64Array): void {
  const scale = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  let keyed = true;
  for (let p = a; p < a + n && keyed; p++) {
    const t = times[p];
    keyed = Number.isInteger(t) && t >= 0 && t * scale + scale <= Number.MAX_SAFE_INTEGER;
  }
  if (keyed) {
    const k = keys.subarray(0, n);
    for (let i = 0; i < n; i++) k[i] = times[a + i] * scale + i;
    k.sort();
    // the position is the key's low bits (exact: integers below 2^53, scale a power of two); no `%`, which
    // on doubles is a call to fmod
    for (let rank = 0; rank < n; rank++) {
      const key = k[rank];
      ages[a + (key - Math.floor(key / scale) * scale)] = n - 1 - rank;
    }
  } else {
    const pos = Array.from({ length: n }, (_, i) => a + i);
    pos.sort((p, q) => times[p] - times[q] || p - q);
    for (let rank = 0; rank < n; rank++) ages[pos[rank]] = n - 1 - rank;
  }
}

/** cols[p0..e) is non-decreasing */
function ascending(cols: Int32Array, p0: number, e: number): boolean {
  for (let p = p0 + 1; p < e; p++) if (cols[p] < cols[p - 1]) return false;
  return true;
}

/** dense index (first-appearance order) → position in ascending id order */
function rankIds(ids: number[]): { rank: Int32Array; sorted: Float64Array } {
  const sorted = Float64Array.from(ids).sort();
  const order = new Int32Array(ids.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => ids[a] - ids[b]);
  const rank = new Int32Array(ids.length);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  return { rank, sorted };
}

/** Index of `id` in an ascending id array, or -1. */
export function indexOfId(ids: Float64Array, id: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The movie ids (ascending) of a user, or null for an unknown user. */
export function rowOf(m: CsrMatrix, userId: number): number[] | null {
  const r = indexOfId(m.rowIds, userId);
  if (r < 0) return null;
  const out: number[] = [];
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out.push(m.colIds[m.indices[p]]);
  return out;
}

export interface MatrixWindow {
  userIds: number[];
  movieIds: number[];
  /** rows[i][j] = value of (userIds[i], movieIds[j]) (0 when absent) */
  rows: number[][];
}

/** A small dense window for display (the seed's showSparseMatrix): either the first `users` rows ×
 * first `movies` columns (in ascending id order), or the given ids (unknown ids give zeros). */
export function window(m: CsrMatrix, users: number | number[], movies: number | number[]): MatrixWindow {
  const userIds = typeof users === 'number' ? Array.from(m.rowIds.subarray(0, Math.max(0, users))) : users.slice();
  const movieIds = typeof movies === 'number' ? Array.from(m.colIds.subarray(0, Math.max(0, movies))) : movies.slice();
  // column index → the window positions asking for it (an id may be asked twice)
  const colPos = new Map<number, number[]>();
  movieIds.forEach((id, j) => {
    const c = indexOfId(m.colIds, id);
    if (c >= 0) colPos.set(c, [...(colPos.get(c) ?? []), j]);
  });
  const rows = userIds.map((id) => {
    const row = new Array<number>(movieIds.length).fill(0);
    const r = indexOfId(m.rowIds, id);
    if (r < 0) return row;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      for (const j of colPos.get(m.indices[p]) ?? []) row[j] = m.values === null ? 1 : m.values[p];
    }
    return row;
  });
  return { userIds, movieIds, rows };
}

/** Number of users holding each movie (column entry counts), indexed like colIds. */
export function movieCounts(m: CsrMatrix): Int32Array {
  const counts = new Int32Array(m.nCols);
  const idx = m.indices;
  for (let p = 0; p < idx.length; p++) counts[idx[p]]++;
  return counts;
}

/** Completes a reader's report with the matrix's shape. */
export function fillReport(report: DataReport, m: CsrMatrix, duplicatesCollapsed: number): DataReport {
  report.users = m.nRows;
  report.movies = m.nCols;
  report.interactions = m.indices.length;
  // the reader may have collapsed duplicates already (it counted them); the matrix collapses any left
  report.duplicatesCollapsed = (report.duplicatesCollapsed ?? 0) + duplicatesCollapsed;
  return report;
}
