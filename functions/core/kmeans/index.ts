// The default K-means engine: sparse (CSR) Elkan K-means with greedy k-means++ seeding, written for
// speed and for bit-identical results given a seed, whatever the machine or the thread count. Seeding
// draws numpy's RandomState(seed) stream exactly as scikit-learn's KMeans(random_state=seed) does, so on
// the same matrix it starts from scikit-learn's centres.
//
// Design (docs/KMEANS.md has the parity claims and the measurements):
// - k-means++ candidates are rows of the matrix, so their dot products with every row come from a CSC
//   copy (only rows sharing a movie with the candidate are touched), and the chosen centres' exact
//   distances double as the first assignment;
// - centres are stored transposed (movie × k, padded to groups of 4), so one pass over a row's
//   non-zeros yields its dot products with a group of centres: 16 at once in WebAssembly SIMD
//   (simd.wat; all arrays then live in one shared WebAssembly memory), or 4/8 in the scalar JavaScript
//   fallback, with bit-identical sums; ‖x‖² and ‖c‖² are precomputed, d² = ‖x‖² − 2x·c + ‖c‖²;
// - Elkan bounds (an upper bound per row, a lower bound per row and centre, half the centre-centre
//   distances) skip whole rows, and otherwise every group of centres they rule out;
// - centre sums are kept between iterations and only rows whose label changed update them, split by
//   column ranges across threads (each sum still gets its additions in row order);
// - the kernels run over fixed-size row blocks claimed from a shared counter by the main thread and
//   worker threads; every reduction is summed per block and then in block order.
// Files: state.ts (memory, constants), seeding.ts (CSC copy, k-means++), lloyd.ts (a restart's iterations),
// kernels.ts (the row-block kernels every thread runs), pool.ts (worker threads), simd-wasm.ts (SIMD bytes).
import { availableParallelism } from 'node:os';
import { CsrMatrix, InputError, KMeansEngine, KMeansOptions, KMeansResult } from '../types';
import type { KernelState } from './kernels';
import { RandomState } from './mt19937';
import { effectiveThreads, startExecutor } from './pool';
import { runInit, untranspose } from './lloyd';
import { buildCsc, meanVarianceCsc } from './seeding';
import { allocState, BLOCK_SIZE, MainState, MAX_DEFAULT_THREADS, MAX_K, releaseMemory, SMALL_NNZ } from './state';

export { BLOCK_SIZE, MAX_DEFAULT_THREADS, MAX_K, RANGES, releaseEngineMemory, simdAvailable, SMALL_NNZ } from './state';
export { meanVariance } from './seeding';

/** Thread count used when the caller does not choose one. */
export function defaultThreads(nnz: number): number {
  if (nnz < SMALL_NNZ) return 1;
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
}
export const kmeans: KMeansEngine = async (x: CsrMatrix, opts: KMeansOptions): Promise<KMeansResult> => {
  validate(x, opts);
  const nnz = x.indptr[x.nRows];
  const threads = opts.threads ?? defaultThreads(nnz);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InputError('bad_param', `threads must be a positive integer, got ${JSON.stringify(opts.threads)}.`);
  }
  const useSimd = opts.simd ?? process.env.MOVIEREC_KMEANS_SIMD !== '0';
  const S = allocState(x, opts.k, effectiveThreads(threads, Math.ceil(x.nRows / BLOCK_SIZE)), useSimd);
  try {
    return await cluster(S, opts, threads);
  } finally {
    releaseMemory(S);
  }
};
async function cluster(S: KernelState, opts: KMeansOptions, threads: number): Promise<KMeansResult> {
  const exec = await startExecutor(S, threads);
  try {
    await buildCsc(S, exec);
    const tolAbs = opts.tol * meanVarianceCsc(S);
    const m = new MainState(S);
    // one stream for all restarts, consumed in order (scikit-learn passes one RandomState to every init)
    const rs = new RandomState(opts.randomState);
    const inertias: number[] = [];
    const starts: number[][] = [];
    let best: { labels: Int32Array; centroids: Float64Array; inertia: number; iterations: number; init: number } | null =
      null;
    for (let init = 0; init < opts.nInit; init++) {
      const r = await runInit(S, m, exec, rs, opts, init, tolAbs);
      inertias.push(r.inertia);
      starts.push(r.seeds);
      if (best === null || r.inertia < best.inertia) {
        best = { labels: S.labels.slice(), centroids: untranspose(S), inertia: r.inertia, iterations: r.iterations, init };
      }
    }
    const b = best as NonNullable<typeof best>;
    return {
      labels: b.labels,
      centroids: b.centroids,
      inertia: b.inertia,
      iterations: b.iterations,
      inertias,
      bestInit: b.init,
      engine: 'default',
      starts,
    };
  } finally {
    await exec.close();
  }
}
function validate(x: CsrMatrix, o: KMeansOptions): void {
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new InputError('bad_param', `K-means ${field} must be ${rule}, got ${JSON.stringify(value)}.`);
  };
  if (!Number.isInteger(o.k) || o.k < 1) bad('k', 'a positive integer', o.k);
  if (!Number.isInteger(o.nInit) || o.nInit < 1) bad('nInit', 'a positive integer', o.nInit);
  if (!Number.isInteger(o.maxIter) || o.maxIter < 1) bad('maxIter', 'a positive integer', o.maxIter);
  if (!(typeof o.tol === 'number' && Number.isFinite(o.tol) && o.tol >= 0)) bad('tol', 'a finite number ≥ 0', o.tol);
  if (!(Number.isInteger(o.randomState) && o.randomState >= 0 && o.randomState <= 0xffffffff)) {
    bad('randomState', 'an integer between 0 and 4294967295 (numpy\'s RandomState seeds)', o.randomState);
  }
  const { nRows, nCols, indptr, indices, values } = x;
  const badMatrix = (what: string): never => {
    throw new InputError('bad_matrix', `K-means input matrix is malformed: ${what}; build it with buildMatrix.`);
  };
  if (nRows < 1 || nCols < 1) {
    throw new InputError('empty_matrix', 'K-means needs at least one user and one movie; the ratings file has none.');
  }
  if (indptr.length !== nRows + 1 || indptr[0] !== 0) badMatrix('indptr must have nRows + 1 entries starting at 0');
  const nnz = indptr[nRows];
  if (indices.length < nnz) badMatrix('indices is shorter than indptr[nRows]');
  if (values !== null && values.length < nnz) badMatrix('values is shorter than indptr[nRows]');
  for (let i = 0; i < nRows; i++) {
    const p0 = indptr[i];
    const p1 = indptr[i + 1];
    if (p1 < p0) badMatrix(`indptr decreases at row ${i}`);
    let last = -1;
    for (let p = p0; p < p1; p++) {
      const j = indices[p];
      if (!(j >= 0 && j < nCols)) badMatrix(`column index ${j} at position ${p} is outside 0..${nCols - 1}`);
      if (j <= last) badMatrix(`row ${i} has column indices not strictly ascending`);
      last = j;
    }
  }
  if (values !== null) {
    for (let p = 0; p < nnz; p++) if (!Number.isFinite(values[p])) badMatrix(`value at position ${p} is not finite`);
  }
  if (o.k > MAX_K) {
    throw new InputError('bad_param', `K-means k (${o.k}) is above ${MAX_K}, the most the default engine supports; choose a smaller k.`);
  }
  if (o.k > nRows) {
    throw new InputError('bad_param', `K-means k (${o.k}) exceeds the number of users (${nRows}); choose a smaller k.`);
  }
}
