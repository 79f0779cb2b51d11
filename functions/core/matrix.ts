// Sparse binary user × movie matrix (CSR on typed arrays). Built with one counting sort by row, then each
// row's columns sorted in place and adjacent duplicates collapsed. No dense user × movie array is ever
// allocated.
import type { CsrMatrix, DataReport, Interactions } from './types';

export interface BuiltMatrix {
  matrix: CsrMatrix;
  /** accepted rows that repeated an existing (user, movie) pair */
  duplicatesCollapsed: number;
}

export function buildMatrix(x: Interactions): BuiltMatrix {
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
  for (let k = 0; k < n; k++) cols[rowFill[rowOfUser[users[k]]]++] = colOfMovie[movies[k]];

  // Sort each row's columns (a numeric typed-array sort, skipped when the row is already ascending), then
  // collapse duplicates (adjacent after sorting), compacting in place.
  const indptr = new Int32Array(nRows + 1);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const p0 = rowStart[r];
    const e = rowStart[r + 1];
    let sorted = true;
    for (let p = p0 + 1; p < e; p++) {
      if (cols[p] < cols[p - 1]) {
        sorted = false;
        break;
      }
    }
    if (!sorted) cols.subarray(p0, e).sort();
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
  const indices = w === n ? cols : cols.slice(0, w);
  return {
    matrix: { nRows, nCols, indptr, indices, values: null, rowIds, colIds },
    duplicatesCollapsed: n - w,
  };
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
