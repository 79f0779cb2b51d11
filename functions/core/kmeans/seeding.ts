// Seeding: the CSC copy of the matrix (and sklearn's tolerance scale from it), then greedy k-means++ with
// numpy's RandomState draws, its candidates' dot products taken from the CSC copy, and the chosen
// centres' distances kept as the first assignment.
import { CsrMatrix } from '../types';
import { type KernelState, OP_CSC_COUNT, OP_CSC_FILL, OP_GRAM, OP_SEED, OP_SEED_DOT } from './kernels';
import { RandomState } from './mt19937';
import type { Executor } from './pool';
import { blockSum, MainState } from './state';

/** The CSC copy (and ‖x_i‖²): count per row range and column in parallel, turn the counts into
 * positions, then place every entry in parallel. */
export async function buildCsc(S: KernelState, exec: Executor): Promise<void> {
  await exec.run(OP_CSC_COUNT);
  const { d, nRanges: R, cscNext, cscPtr } = S;
  let pos = 0;
  for (let j = 0; j < d; j++) {
    cscPtr[j] = pos;
    for (let r = 0; r < R; r++) {
      const c = cscNext[r * d + j];
      cscNext[r * d + j] = pos;
      pos += c;
    }
  }
  cscPtr[d] = pos;
  await exec.run(OP_CSC_FILL);
}
/** meanVariance from the CSC copy (binary: each column's sum and sum of squares are its count). */
export function meanVarianceCsc(S: KernelState): number {
  const { n, d, cscPtr, cscVals } = S;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    let sq = 0;
    if (cscVals === null) {
      sum = cscPtr[j + 1] - cscPtr[j];
      sq = sum;
    } else {
      for (let q = cscPtr[j]; q < cscPtr[j + 1]; q++) {
        sum += cscVals[q];
        sq += cscVals[q] * cscVals[q];
      }
    }
    const mean = sum / n;
    const v = sq / n - mean * mean;
    total += v > 0 ? v : 0;
  }
  return total / d;
}
/** sklearn's tolerance scale: the mean over columns of each column's variance. */
export function meanVariance(x: CsrMatrix): number {
  const n = x.nRows;
  const d = x.nCols;
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  const nnz = x.indptr[n];
  for (let p = 0; p < nnz; p++) {
    const v = x.values === null ? 1 : x.values[p];
    sum[x.indices[p]] += v;
    sq[x.indices[p]] += v * v;
  }
  let total = 0;
  for (let j = 0; j < d; j++) {
    const mean = sum[j] / n;
    const v = sq[j] / n - mean * mean;
    total += v > 0 ? v : 0;
  }
  return total / d;
}
/** Scatter row r (times its values) into column `col` of a transposed dense matrix with `width` columns. */
export function scatterRow(S: KernelState, r: number, target: Float64Array, width: number, col: number): void {
  const { indptr, indices, values } = S;
  for (let p = indptr[r]; p < indptr[r + 1]; p++) target[indices[p] * width + col] = values === null ? 1 : values[p];
}
/** Greedy k-means++ (scikit-learn's `_kmeans_plusplus`, with its draws): the first centre is
 * `randint(n)`; each next one is the best of 2 + ⌊ln k⌋ candidates at `searchsorted(cumsum(D²),
 * random_sample() · potential)`, "best" meaning the lowest resulting potential. Returns row indices,
 * and leaves each row's exact squared distance to chosen centre c in lower[i*k + c]. */
export async function seedPlusPlus(S: KernelState, m: MainState, exec: Executor, rs: RandomState): Promise<number[]> {
  const { n, k, tMax, candRows, candNorm, closest, candDist, xnorm } = S;
  const trial = async (rows: number[]) => {
    rows.forEach((r, t) => {
      candRows[t] = r;
      candNorm[t] = xnorm[r];
    });
    await exec.run(OP_SEED_DOT, rows.length);
    await exec.run(OP_SEED, rows.length);
  };

  const first = rs.randint(n);
  const centres = [first];
  closest.fill(Infinity);
  await trial([first]);
  closest.set(candDist.subarray(0, n));
  keepSeedDistances(S, 0, 0);
  let pot = blockSum(S, 0);

  const cum = m.cum;
  for (let c = 1; c < k; c++) {
    blockedCumsum(closest, cum, S.blockSize);
    const cands: number[] = [];
    for (let t = 0; t < tMax; t++) cands.push(searchLeft(cum, rs.randomSample() * pot));
    await trial(cands);
    let bestT = 0;
    let bestPot = Infinity;
    for (let t = 0; t < tMax; t++) {
      const p = blockSum(S, t);
      if (p < bestPot) {
        bestPot = p;
        bestT = t;
      }
    }
    closest.set(candDist.subarray(bestT * n, bestT * n + n));
    keepSeedDistances(S, bestT, c);
    pot = bestPot;
    centres.push(cands[bestT]);
  }
  return centres;
}
/**
 * The cumulative sums k-means++ draws from, summed the way the potential is: within each fixed row block
 * from zero, the blocks' totals then added in block order (cum[i] = offset of i's block + i's sum within
 * it). So the last entry IS the potential (blockSum), and a distributed training, whose partitions hold
 * whole blocks or hand their rows of a shared block over, computes the very same numbers from
 * per-partition block sums. A plain running sum differs from this only by rounding (ulps).
 */
export function blockedCumsum(values: Float64Array, cum: Float64Array, blockSize: number): void {
  const n = values.length;
  let offset = 0;
  for (let start = 0; start < n; start += blockSize) {
    const end = Math.min(n, start + blockSize);
    let local = 0;
    for (let i = start; i < end; i++) {
      local += values[i];
      cum[i] = offset + local;
    }
    offset += local;
  }
}
/** lower[i*k + c] = squared distance of row i to candidate t (the arithmetic of assignKernel's). */
function keepSeedDistances(S: KernelState, t: number, c: number): void {
  const { n, k, xnorm, candDot, lower } = S;
  const cn = S.candNorm[t];
  const base = t * n;
  for (let i = 0; i < n; i++) {
    let d2 = xnorm[i] - 2 * candDot[base + i] + cn;
    if (d2 < 0) d2 = 0;
    lower[i * k + c] = d2;
  }
}
/** First index i with cum[i] ≥ v (numpy searchsorted, side 'left'), clipped to the last index. */
export function searchLeft(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cum.length - 1);
}
export async function setCentresFromRows(S: KernelState, exec: Executor, rows: number[]): Promise<void> {
  S.ct.fill(0);
  rows.forEach((r, c) => {
    scatterRow(S, r, S.ct, S.kp, c);
    S.cnorm[c] = S.xnorm[r];
  });
  await computeHalfDistances(S, exec);
}

/** half[a*k+b] = ‖c_a − c_b‖ / 2 and sHalf[a] = min over b ≠ a, from the Gram matrix of the centres
 * (partial Grams over column ranges in parallel, added in range order). */
export async function computeHalfDistances(S: KernelState, exec: Executor): Promise<void> {
  const { k, cnorm, half, sHalf, gramPart, nRanges } = S;
  await exec.run(OP_GRAM);
  const gram = new Float64Array(k * k);
  for (let r = 0; r < nRanges; r++) {
    const o = r * k * k;
    for (let q = 0; q < k * k; q++) gram[q] += gramPart[o + q];
  }
  sHalf.fill(Infinity);
  for (let a = 0; a < k; a++) {
    half[a * k + a] = 0;
    for (let b = a + 1; b < k; b++) {
      let d2 = cnorm[a] + cnorm[b] - 2 * gram[a * k + b];
      if (d2 < 0) d2 = 0;
      const h = Math.sqrt(d2) / 2;
      half[a * k + b] = h;
      half[b * k + a] = h;
      if (h < sHalf[a]) sHalf[a] = h;
      if (h < sHalf[b]) sHalf[b] = h;
    }
  }
  if (k === 1) sHalf[0] = Infinity;
}
