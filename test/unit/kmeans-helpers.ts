// Small local CSR builders for the K-means tests and bench (independent of the ratings reader).
import { readFileSync } from 'node:fs';
import { CsrMatrix } from '../../functions/core/types';

/** CSR from dense rows (0 entries are not stored). `binary` drops the values (all stored entries 1). */
export function csrFromDense(rows: number[][], binary = false): CsrMatrix {
  const nCols = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const indptr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  const vals: number[] = [];
  rows.forEach((r, i) => {
    r.forEach((v, j) => {
      if (v !== 0) {
        idx.push(j);
        vals.push(v);
      }
    });
    indptr[i + 1] = idx.length;
  });
  return {
    nRows: rows.length,
    nCols,
    indptr,
    indices: Int32Array.from(idx),
    values: binary ? null : Float64Array.from(vals),
    rowIds: Float64Array.from(rows.map((_, i) => i + 1)),
    colIds: Float64Array.from({ length: nCols }, (_, j) => j + 1),
  };
}

/** Binary CSR from (row, col) pairs given as ids; rows/cols sorted by id, duplicates collapsed. */
export function csrFromPairs(users: ArrayLike<number>, movies: ArrayLike<number>): CsrMatrix {
  const rowIds = Float64Array.from(new Set(Array.from(users))).sort();
  const colIds = Float64Array.from(new Set(Array.from(movies))).sort();
  const rowOf = new Map<number, number>();
  rowIds.forEach((id, i) => rowOf.set(id, i));
  const colOf = new Map<number, number>();
  colIds.forEach((id, j) => colOf.set(id, j));
  const perRow: number[][] = Array.from({ length: rowIds.length }, () => []);
  for (let p = 0; p < users.length; p++) perRow[rowOf.get(users[p])!].push(colOf.get(movies[p])!);
  const indptr = new Int32Array(rowIds.length + 1);
  const indices: number[] = [];
  perRow.forEach((cols, i) => {
    const uniq = Array.from(new Set(cols)).sort((a, b) => a - b);
    indices.push(...uniq);
    indptr[i + 1] = indices.length;
  });
  return { nRows: rowIds.length, nCols: colIds.length, indptr, indices: Int32Array.from(indices), values: null, rowIds, colIds };
}

export const ML_SMALL = '/work/shared/datasets/ml-latest-small/ratings.csv';

/** ml-latest-small as a binary user × movie matrix (split(',') parsing; the file is plain numeric). */
export function loadRatingsCsv(file = ML_SMALL): CsrMatrix {
  const lines = readFileSync(file, 'utf8').split('\n');
  const users: number[] = [];
  const movies: number[] = [];
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l].trim();
    if (!line) continue;
    const f = line.split(',');
    users.push(Number(f[0]));
    movies.push(Number(f[1]));
  }
  return csrFromPairs(users, movies);
}

/** A deterministic random binary matrix (LCG), density `p`, every row non-empty. */
export function randomBinary(nRows: number, nCols: number, p: number, seed = 1): CsrMatrix {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const rows: number[][] = [];
  for (let i = 0; i < nRows; i++) {
    const r = new Array<number>(nCols).fill(0);
    for (let j = 0; j < nCols; j++) if (rnd() < p) r[j] = 1;
    if (!r.includes(1)) r[Math.floor(rnd() * nCols)] = 1;
    rows.push(r);
  }
  return csrFromDense(rows, true);
}

/** Independent brute-force inertia: Σ over rows of the squared distance to the centroid of its label,
 * centroids recomputed here from the labels as dense means. */
export function bruteForceInertia(x: CsrMatrix, labels: Int32Array, k: number): number {
  const dense = (i: number) => {
    const r = new Float64Array(x.nCols);
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) r[x.indices[p]] = x.values ? x.values[p] : 1;
    return r;
  };
  const sums = Array.from({ length: k }, () => new Float64Array(x.nCols));
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < x.nRows; i++) {
    const r = dense(i);
    const s = sums[labels[i]];
    for (let j = 0; j < x.nCols; j++) s[j] += r[j];
    counts[labels[i]]++;
  }
  let total = 0;
  for (let i = 0; i < x.nRows; i++) {
    const r = dense(i);
    const c = labels[i];
    for (let j = 0; j < x.nCols; j++) {
      const diff = r[j] - sums[c][j] / counts[c];
      total += diff * diff;
    }
  }
  return total;
}

/** Binary rows in `groups` planted taste groups: a row of group g takes each of its group's `span`
 * movies with probability pIn and any other movie with probability pOut (deterministic LCG). */
export function plantedBinary(nRows: number, nCols: number, groups: number, pIn = 0.5, pOut = 0.02, seed = 3): CsrMatrix {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const span = Math.floor(nCols / groups);
  const rows: number[][] = [];
  for (let i = 0; i < nRows; i++) {
    const g = i % groups;
    const r = new Array<number>(nCols).fill(0);
    for (let j = 0; j < nCols; j++) {
      const inGroup = j >= g * span && j < (g + 1) * span;
      if (rnd() < (inGroup ? pIn : pOut)) r[j] = 1;
    }
    if (!r.includes(1)) r[g * span] = 1;
    rows.push(r);
  }
  return csrFromDense(rows, true);
}

/** Index of the nearest centroid (k × nCols row-major) of row i, ties to the lowest index. */
export function nearestCentroid(x: CsrMatrix, centroids: Float64Array, k: number, i: number): { c: number; d2: number } {
  let best = -1;
  let bestD2 = Infinity;
  for (let c = 0; c < k; c++) {
    let d2 = 0;
    const row = new Float64Array(x.nCols);
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) row[x.indices[p]] = x.values ? x.values[p] : 1;
    for (let j = 0; j < x.nCols; j++) {
      const diff = row[j] - centroids[c * x.nCols + j];
      d2 += diff * diff;
    }
    if (d2 < bestD2) {
      bestD2 = d2;
      best = c;
    }
  }
  return { c: best, d2: bestD2 };
}
