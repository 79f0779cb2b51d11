// The engine as a distributed training's per-partition worker: one Lloyd assignment of a partition's rows
// to given centres, with the engine's own kernels (WebAssembly SIMD, worker threads), so a row's distances
// are the very numbers the single-function engine computes for it.
//
// A worker keeps nothing between calls (it is a fresh Lambda invocation per pass), so the Elkan bounds the
// engine carries from one iteration to the next are not available: the assignment starts every row with no
// bound, which makes the kernel compute the distance to every centre (all groups) and pick the nearest —
// ties keep the row's current label, else the lowest index, as in the engine. Bounds only ever skip centres
// that cannot win, so the labels are the engine's.
import type { CsrMatrix } from '../types';
import { OP_ASSIGN } from './kernels';
import { effectiveThreads, startExecutor } from './pool';
import { allocState, BLOCK_SIZE, blockSum, releaseMemory, SMALL_NNZ, MAX_DEFAULT_THREADS } from './state';
import { availableParallelism } from 'node:os';

/** Centres in the engine's layout: transposed d × kp (kp = k rounded up to 4, padding zero) and ‖c‖². */
export interface EngineCentres {
  k: number;
  ct: Float64Array;
  cnorm: Float64Array;
}

export const paddedK = (k: number) => Math.ceil(k / 4) * 4;

/** ‖x_i‖² with the engine's arithmetic (the transpose kernel's: a sequential sum of v², or the count). */
export function rowNorms(x: CsrMatrix): Float64Array {
  const out = new Float64Array(x.nRows);
  for (let i = 0; i < x.nRows; i++) {
    const p0 = x.indptr[i];
    const p1 = x.indptr[i + 1];
    if (x.values === null) {
      out[i] = p1 - p0;
      continue;
    }
    let sq = 0;
    for (let p = p0; p < p1; p++) sq += x.values[p] * x.values[p];
    out[i] = sq;
  }
  return out;
}

/**
 * Assigns every row of `x` to its nearest centre, starting from `labels` (updated in place). Returns the
 * rows whose label changed and each row's squared distance to its centre (the inertia kernel's number).
 */
export async function assignRows(
  x: CsrMatrix,
  centres: EngineCentres,
  labels: Int32Array,
  opts: { threads?: number; simd?: boolean } = {},
): Promise<{ changed: number; d2: Float64Array }> {
  const n = x.nRows;
  if (n === 0) return { changed: 0, d2: new Float64Array(0) };
  const k = centres.k;
  const nnz = x.indptr[n];
  const threads = opts.threads ?? (nnz < SMALL_NNZ ? 1 : Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS)));
  const useSimd = opts.simd ?? process.env.MOVIEREC_KMEANS_SIMD !== '0';
  const S = allocState(x, k, effectiveThreads(threads, Math.ceil(n / BLOCK_SIZE)), useSimd);
  try {
    if (S.ct.length !== centres.ct.length) throw new Error(`centres hold ${centres.ct.length} values, the engine expects ${S.ct.length} (d × kp)`);
    S.ct.set(centres.ct);
    S.cnorm.set(centres.cnorm);
    S.labels.set(labels);
    S.xnorm.set(rowNorms(x));
    // no bounds: every centre's distance is computed
    S.upper.fill(Infinity);
    S.lower.fill(0);
    S.half.fill(0);
    S.sHalf.fill(0);
    S.shift.fill(0);
    const exec = await startExecutor(S, threads);
    try {
      await exec.run(OP_ASSIGN);
    } finally {
      await exec.close();
    }
    const changed = blockSum(S, 0);
    labels.set(S.labels);
    return { changed, d2: squaredDistances(x, S.xnorm, S.ct, S.cnorm, S.kp, labels) };
  } finally {
    releaseMemory(S);
  }
}

/** Each row's squared distance to centre labels[i]: the inertia kernel's arithmetic. */
export function squaredDistances(
  x: CsrMatrix,
  xnorm: Float64Array,
  ct: Float64Array,
  cnorm: Float64Array,
  kp: number,
  labels: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(x.nRows);
  const { indptr, indices, values } = x;
  for (let i = 0; i < x.nRows; i++) {
    const a = labels[i];
    let dot = 0;
    if (values === null) for (let p = indptr[i]; p < indptr[i + 1]; p++) dot += ct[indices[p] * kp + a];
    else for (let p = indptr[i]; p < indptr[i + 1]; p++) dot += values[p] * ct[indices[p] * kp + a];
    let d2 = xnorm[i] - 2 * dot + cnorm[a];
    if (d2 < 0) d2 = 0;
    out[i] = d2;
  }
  return out;
}
