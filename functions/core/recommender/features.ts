// Taste features: each user's binary row scaled to unit length (value 1/√n on each of the user's n
// movies). K-means on unit rows is spherical K-means: users are grouped by WHAT they watch, not by
// how much — on raw binary rows the heavy raters pull whole clusters to themselves.
import { rowAges } from '../matrix';
import { CsrMatrix } from '../types';

export function unitRows(x: CsrMatrix): CsrMatrix {
  const nnz = x.indptr[x.nRows];
  const values = new Float64Array(nnz);
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    if (b === a) continue;
    let ss = 0;
    for (let p = a; p < b; p++) {
      const v = x.values ? x.values[p] : 1;
      ss += v * v;
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let p = a; p < b; p++) values[p] = (x.values ? x.values[p] : 1) * inv;
  }
  return { ...x, values };
}

/**
 * Recency-weighted unit rows: a user's movie at position pos of n (ordered by (time, movieId)) weighs
 * 0.5^((n − 1 − pos) / halfLife) before scaling the row to unit length, so the newest movies say most
 * about which clusters the user belongs to now. `times` is aligned with x.indices; halfLife ≤ 0 or
 * no times → plain unit rows.
 */
export function recencyUnitRows(x: CsrMatrix, times: Float64Array | undefined, halfLife: number): CsrMatrix {
  if (!times || !(halfLife > 0) || !Number.isFinite(halfLife)) return unitRows(x);
  const nnz = x.indptr[x.nRows];
  const values = new Float64Array(nnz);
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const n = x.indptr[r + 1] - a;
    if (n === 0) continue;
    const pos = Array.from({ length: n }, (_, i) => a + i);
    pos.sort((p, q) => times[p] - times[q] || x.indices[p] - x.indices[q]);
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.pow(0.5, (n - 1 - i) / halfLife);
      values[pos[i]] = w;
      ss += w * w;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let p = a; p < a + n; p++) values[p] *= inv;
  }
  return { ...x, values };
}

/** The given rows of `x` (in the given order) as a matrix of their own, with their matrix-aligned
 * timestamps; columns unchanged. */
export function takeRows(
  x: CsrMatrix,
  times: Float64Array | undefined,
  rows: readonly number[],
): { x: CsrMatrix; times: Float64Array | undefined } {
  let nnz = 0;
  for (const r of rows) nnz += x.indptr[r + 1] - x.indptr[r];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = x.values ? new Float64Array(nnz) : null;
  const taken = times ? new Float64Array(nnz) : undefined;
  const rowIds = new Float64Array(rows.length);
  let w = 0;
  rows.forEach((r, i) => {
    rowIds[i] = x.rowIds[r];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++, w++) {
      indices[w] = x.indices[p];
      if (values) values[w] = x.values![p];
      if (taken) taken[w] = times![p];
    }
    indptr[i + 1] = w;
  });
  return { x: { nRows: rows.length, nCols: x.nCols, indptr, indices, values, rowIds, colIds: x.colIds }, times: taken };
}

/**
 * Each entry's age within its row (aligned with x.indices): 0 for the row's newest movie by (time,
 * movieId), 1 for the one before, … (matrix.ts rowAges, row by row; buildMatrix computes the same while it
 * builds the matrix).
 */
export function entryAges(x: CsrMatrix, times: Float64Array): Int32Array {
  const nnz = x.indptr[x.nRows];
  const ages = new Int32Array(nnz);
  let longest = 0;
  for (let r = 0; r < x.nRows; r++) longest = Math.max(longest, x.indptr[r + 1] - x.indptr[r]);
  const keys = new Float64Array(longest);
  for (let r = 0; r < x.nRows; r++) rowAges(times, x.indptr[r], x.indptr[r + 1] - x.indptr[r], ages, keys);
  return ages;
}

/** Rows weighted by recency: 0.5^(age / halfLife) per entry (halfLife ≤ 0 or no ages: 1), each row
 * scaled to unit length — the same values as recencyUnitRows, from precomputed ages. */
export function recencyRowsFromAges(x: CsrMatrix, ages: Int32Array | undefined, halfLife: number): CsrMatrix {
  if (!ages || !(halfLife > 0) || !Number.isFinite(halfLife)) return unitRows(x);
  const nnz = x.indptr[x.nRows];
  const values = new Float64Array(nnz);
  const pow: number[] = [];
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    if (b === a) continue;
    let ss = 0;
    for (let p = a; p < b; p++) {
      const age = ages[p];
      let w = pow[age];
      if (w === undefined) w = pow[age] = Math.pow(0.5, age / halfLife);
      values[p] = w;
      ss += w * w;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let p = a; p < b; p++) values[p] *= inv;
  }
  return { ...x, values };
}

/** Per row, its `keep` newest movie ids, oldest first (ptr/movies like the model's user arrays). */
export function newestMovies(x: CsrMatrix, ages: Int32Array, keep: number): { ptr: number[]; movies: number[] } {
  const ptr = [0];
  const movies: number[] = [];
  for (let r = 0; r < x.nRows; r++) {
    const a = x.indptr[r];
    const n = x.indptr[r + 1] - a;
    const m = Math.min(n, keep);
    const at = movies.length;
    for (let i = 0; i < m; i++) movies.push(0);
    for (let p = a; p < a + n; p++) if (ages[p] < m) movies[at + m - 1 - ages[p]] = x.colIds[x.indices[p]];
    ptr.push(movies.length);
  }
  return { ptr, movies };
}
