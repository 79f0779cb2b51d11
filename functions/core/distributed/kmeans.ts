// K-means as map and reduce, with the single-function engine's arithmetic (functions/core/kmeans), so the
// same starting centres lead to the same labels and inertia whatever the partitioning:
//
//   seeding, one map pass per centre: each partition computes its rows' distances to the round's k-means++
//     candidates (trialPartition) and hands over block sums; the reducer picks the candidate with the lowest
//     potential and draws the next candidates from numpy's stream, located through the block sums
//     (blocks.ts searchBlocked) — the engine's greedy k-means++ draws, bit for bit;
//   Lloyd, one map pass per iteration: each partition assigns its rows with the engine's kernels
//     (kmeans/partition.ts assignRows) and returns per-cluster counts, column sums of its members (sparse,
//     split by the engine's 8 column ranges), its block sums of squared distances and its farthest rows;
//     one reducer per column range turns the sums into new centres exactly as the engine's centre update
//     does (updateRange), and the last reducer decides convergence by the engine's rules.
//
// Summation order: counts and the sums of binary rows are integers, exact in any order, so the seed
// algorithm's centres are the engine's bit for bit. Sums of unit rows are added per partition and then in
// partition order, while the engine keeps them incrementally: they agree to rounding (ulps), and labels agree
// unless a row sits that close to the middle of two centres.
import { RANGES } from '../kmeans';
import { paddedK } from '../kmeans/partition';
import type { CsrMatrix } from '../types';

export type Features = 'binary' | 'unit';

/** Column range r of the engine's RANGES ranges over d columns. */
export function columnRange(r: number, d: number): { j0: number; j1: number } {
  return { j0: Math.floor((r * d) / RANGES), j1: Math.floor(((r + 1) * d) / RANGES) };
}

// ---------------------------------------------------------------------------------------------- seeding

/** One k-means++ round's candidates: rows of the matrix (global row index), with their features. */
export interface Candidate {
  row: number;
  cols: Int32Array;
  /** null: binary */
  vals: Float64Array | null;
  /** ‖x‖², the engine's arithmetic */
  norm: number;
}

/**
 * Squared distances of a partition's rows to each candidate, each min'ed with the row's distance to the
 * centres chosen so far (`closest`; null before the first centre): the engine's seeding kernels'
 * arithmetic (a row's dot product with a candidate adds the shared columns' products in column order).
 */
export function trialPartition(x: CsrMatrix, xnorm: Float64Array, closest: Float64Array | null, cands: readonly Candidate[]): Float64Array[] {
  const n = x.nRows;
  const t = cands.length;
  const tp = Math.max(1, t);
  // candidates scattered, column-major: dense[j * tp + c]
  const dense = new Float64Array(x.nCols * tp);
  cands.forEach((c, ci) => {
    for (let q = 0; q < c.cols.length; q++) dense[c.cols[q] * tp + ci] = c.vals === null ? 1 : c.vals[q];
  });
  const out = cands.map(() => new Float64Array(n));
  const dot = new Float64Array(tp);
  const { indptr, indices, values } = x;
  for (let i = 0; i < n; i++) {
    dot.fill(0);
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const base = indices[p] * tp;
      if (values === null) for (let c = 0; c < t; c++) dot[c] += dense[base + c];
      else {
        const v = values[p];
        for (let c = 0; c < t; c++) dot[c] += v * dense[base + c];
      }
    }
    const cl = closest === null ? Infinity : closest[i];
    for (let c = 0; c < t; c++) {
      let d2 = xnorm[i] - 2 * dot[c] + cands[c].norm;
      if (d2 < 0) d2 = 0;
      if (cl < d2) d2 = cl;
      out[c][i] = d2;
    }
  }
  return out;
}

/** Number of k-means++ candidates per round (scikit-learn's 2 + ⌊ln k⌋). */
export const trialsFor = (k: number) => 2 + Math.floor(Math.log(k));

/** The chosen centres (rows) as the engine's transposed layout, with ‖c‖². */
export function centresFromRows(rows: readonly Candidate[], d: number, k: number): { ct: Float64Array; cnorm: Float64Array } {
  const kp = paddedK(k);
  const ct = new Float64Array(d * kp);
  const cnorm = new Float64Array(k);
  rows.forEach((r, c) => {
    for (let q = 0; q < r.cols.length; q++) ct[r.cols[q] * kp + c] = r.vals === null ? 1 : r.vals[q];
    cnorm[c] = r.norm;
  });
  return { ct, cnorm };
}

/** k × d row-major centroids as the Lloyd steps' layout: ct[col · paddedK + c], and ‖c‖². */
export function transposedCentres(centroids: Float64Array, k: number, d: number): { ct: Float64Array; cnorm: Float64Array } {
  const kp = paddedK(k);
  const ct = new Float64Array(d * kp);
  const cnorm = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let col = 0; col < d; col++) {
      const v = centroids[c * d + col];
      if (v === 0) continue;
      ct[col * kp + c] = v;
      s += v * v;
    }
    cnorm[c] = s;
  }
  return { ct, cnorm };
}

// ---------------------------------------------------------------------------------------------- Lloyd

/** A partition's column sums of one column range: for each column (ascending), its clusters and sums. */
export interface RangeSums {
  cols: Int32Array;
  ptr: Int32Array;
  clusters: Uint8Array;
  sums: Float64Array;
}

/** Per-cluster counts and, per column range, the sums of the members' values (rows in order). */
export function partialSums(x: CsrMatrix, labels: ArrayLike<number>, k: number): { counts: number[]; ranges: RangeSums[] } {
  const d = x.nCols;
  const kp = paddedK(k);
  const counts = new Array<number>(k).fill(0);
  const acc = new Float64Array(d * kp);
  const touched = new Uint8Array(d * kp);
  const { indptr, indices, values } = x;
  for (let i = 0; i < x.nRows; i++) {
    const a = labels[i];
    counts[a]++;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const q = indices[p] * kp + a;
      acc[q] += values === null ? 1 : values[p];
      touched[q] = 1;
    }
  }
  const ranges: RangeSums[] = [];
  for (let r = 0; r < RANGES; r++) {
    const { j0, j1 } = columnRange(r, d);
    let nCols = 0;
    let nnz = 0;
    for (let j = j0; j < j1; j++) {
      let any = false;
      for (let c = 0; c < k; c++) if (touched[j * kp + c]) (nnz++, (any = true));
      if (any) nCols++;
    }
    const out: RangeSums = { cols: new Int32Array(nCols), ptr: new Int32Array(nCols + 1), clusters: new Uint8Array(nnz), sums: new Float64Array(nnz) };
    let w = 0;
    let col = 0;
    for (let j = j0; j < j1; j++) {
      const start = w;
      for (let c = 0; c < k; c++) {
        const q = j * kp + c;
        if (!touched[q]) continue;
        out.clusters[w] = c;
        out.sums[w] = acc[q];
        w++;
      }
      if (w > start) {
        out.cols[col] = j;
        out.ptr[++col] = w;
      }
    }
    ranges.push(out);
  }
  return { counts, ranges };
}

/** A partition's farthest rows (candidates for refilling empty clusters): at most `m`, by distance to
 * their centre (the square root of d², as the engine sorts) descending, then global row ascending. */
export function farthestRows(d2: Float64Array, labels: ArrayLike<number>, rowStart: number, m: number): Array<{ row: number; dist: number; label: number }> {
  const order = Array.from({ length: d2.length }, (_, i) => i);
  const dist = Array.from(d2, (v) => Math.sqrt(v));
  order.sort((a, b) => dist[b] - dist[a] || a - b);
  return order.slice(0, m).map((i) => ({ row: rowStart + i, dist: dist[i], label: labels[i] }));
}

export interface Move {
  row: number;
  from: number;
  to: number;
}

/**
 * scikit-learn's (and the engine's) relocation of empty clusters: each empty cluster, ascending, takes the
 * row farthest from its current centre (ties: lowest row) among rows whose cluster keeps another member.
 * `candidates` must hold every partition's 2k farthest rows: at most #empty + k rows are ever examined.
 * Returns the moves and the counts after them.
 */
export function planRelocation(
  counts: readonly number[],
  candidates: ReadonlyArray<{ row: number; dist: number; label: number }>,
): { moves: Move[]; counts: number[] } {
  const after = counts.slice();
  const empty: number[] = [];
  after.forEach((n, c) => n === 0 && empty.push(c));
  if (empty.length === 0) return { moves: [], counts: after };
  const order = candidates.slice().sort((a, b) => b.dist - a.dist || a.row - b.row);
  const moves: Move[] = [];
  let next = 0;
  for (const c of empty) {
    while (next < order.length && after[order[next].label] <= 1) next++;
    if (next >= order.length) break;
    const r = order[next++];
    after[r.label]--;
    after[c] = 1;
    moves.push({ row: r.row, from: r.label, to: c });
  }
  return { moves, counts: after };
}

/** A moved row's values in one column range (for the sums). */
export interface MovedRow {
  row: number;
  cols: Int32Array;
  vals: Float64Array | null;
}

/**
 * New centres for columns [j0, j1) of one range: the partitions' sums added in partition order, the
 * relocations applied as the engine applies them (remove the row from its cluster, clear the empty
 * cluster's sums, add the row), then the engine's centre update (sums × 1/count; an empty cluster keeps its
 * centre) with its per-range Σ shift² and Σ centre².
 */
export function updateRange(
  range: { j0: number; j1: number },
  k: number,
  parts: readonly RangeSums[],
  counts: readonly number[],
  moves: readonly Move[],
  movedRows: ReadonlyMap<number, MovedRow>,
  oldCt: Float64Array,
): { ct: Float64Array; shift2: Float64Array; norm: Float64Array } {
  const kp = paddedK(k);
  const { j0, j1 } = range;
  const width = j1 - j0;
  const sumT = new Float64Array(width * kp);
  for (const part of parts) {
    for (let ci = 0; ci < part.cols.length; ci++) {
      const base = (part.cols[ci] - j0) * kp;
      for (let q = part.ptr[ci]; q < part.ptr[ci + 1]; q++) sumT[base + part.clusters[q]] += part.sums[q];
    }
  }
  const addRow = (row: MovedRow, c: number, sign: number) => {
    for (let q = 0; q < row.cols.length; q++) {
      const j = row.cols[q];
      if (j < j0 || j >= j1) continue;
      sumT[(j - j0) * kp + c] += row.vals === null ? sign : sign * row.vals[q];
    }
  };
  for (const m of moves) {
    const row = movedRows.get(m.row);
    if (!row) throw new Error(`relocated row ${m.row} was not provided`);
    addRow(row, m.from, -1);
    for (let j = 0; j < width; j++) sumT[j * kp + m.to] = 0;
    addRow(row, m.to, 1);
  }
  const inv = new Float64Array(kp);
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) inv[c] = 1 / counts[c];
    else {
      for (let j = 0; j < width; j++) sumT[j * kp + c] = oldCt[j * kp + c];
      inv[c] = 1;
    }
  }
  const ct = new Float64Array(width * kp);
  const shift2 = new Float64Array(kp);
  const norm = new Float64Array(kp);
  for (let j = 0; j < width; j++) {
    const base = j * kp;
    for (let c = 0; c < k; c++) {
      const v = sumT[base + c] * inv[c];
      const diff = v - oldCt[base + c];
      shift2[c] += diff * diff;
      norm[c] += v * v;
      ct[base + c] = v;
    }
  }
  return { ct, shift2, norm };
}

/** The ranges' parts added in range order: each centre's ‖c‖² and the total squared shift (the engine's
 * updateCentres). */
export function combineRanges(parts: ReadonlyArray<{ shift2: Float64Array; norm: Float64Array }>, k: number): { cnorm: Float64Array; shiftTotal: number } {
  const kp = paddedK(k);
  const shift2 = new Float64Array(kp);
  const cnorm = new Float64Array(k);
  for (const p of parts) {
    for (let c = 0; c < k; c++) {
      shift2[c] += p.shift2[c];
      cnorm[c] += p.norm[c];
    }
  }
  let total = 0;
  for (let c = 0; c < k; c++) total += shift2[c];
  return { cnorm, shiftTotal: total };
}

export type Next = 'assign' | 'final' | 'done';

/**
 * The engine's loop decision after iteration `iterations` (1-based): no label changed by the last
 * assignment (relocations count as changes) ⇒ converged (the last assignment's labels and distances are
 * final); centres moved less than the tolerance, or maxIter reached ⇒ one final assignment to the new
 * centres; otherwise the next assignment.
 */
export function nextStep(lastChanged: number, shiftTotal: number, tolAbs: number, iterations: number, maxIter: number): Next {
  if (lastChanged === 0) return 'done';
  if (shiftTotal <= tolAbs || iterations >= maxIter) return 'final';
  return 'assign';
}
