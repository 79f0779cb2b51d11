// The reference engine: ml-kmeans 7 (k-means++ seeding, Lloyd iterations) on a DENSE copy of the
// matrix. Slow and memory-hungry by design (see EVALUATION.md); selectable with `--engine ml-kmeans`
// for small data and used by the tests as an independent cross-check of the default engine.
import { kmeans as mlKmeans } from 'ml-kmeans';
import { CsrMatrix, InputError, KMeansEngine, KMeansOptions, KMeansResult } from '../types';
import { meanVariance } from './seeding';

/** Largest nRows × nCols the reference engine densifies (≈ 400 MB of JS numbers). */
export const ML_KMEANS_MAX_CELLS = 5e7;

export const kmeansMl: KMeansEngine = async (x: CsrMatrix, opts: KMeansOptions): Promise<KMeansResult> => {
  const cells = x.nRows * x.nCols;
  if (cells > ML_KMEANS_MAX_CELLS) {
    throw new InputError(
      'too_large_for_engine',
      `The ml-kmeans engine needs a dense ${x.nRows} × ${x.nCols} matrix (${cells.toExponential(1)} cells, limit ${ML_KMEANS_MAX_CELLS.toExponential(0)}); use the default engine (--engine default) for data this size.`,
    );
  }
  if (!Number.isInteger(opts.k) || opts.k < 1 || opts.k > x.nRows) {
    throw new InputError('bad_param', `K-means k must be an integer between 1 and the number of users (${x.nRows}), got ${opts.k}.`);
  }
  if (!Number.isInteger(opts.nInit) || opts.nInit < 1) {
    throw new InputError('bad_param', `K-means nInit must be a positive integer, got ${opts.nInit}.`);
  }
  const data = densify(x);
  const tolerance = opts.tol * meanVariance(x);
  const inertias: number[] = [];
  let best: KMeansResult | null = null;
  for (let init = 0; init < opts.nInit; init++) {
    // restart i uses seed + i: ml-kmeans takes one integer seed per run
    const r = mlKmeans(data, opts.k, {
      initialization: 'kmeans++',
      maxIterations: opts.maxIter,
      tolerance,
      seed: opts.randomState + init,
    });
    const labels = Int32Array.from(r.clusters);
    const centroids = meansOf(x, labels, opts.k);
    const inertia = inertiaOf(x, labels, centroids, opts.k);
    inertias.push(inertia);
    opts.onProgress?.({ init, nInit: opts.nInit, iteration: r.iterations, inertia });
    if (best === null || inertia < best.inertia) {
      best = { labels, centroids, inertia, iterations: r.iterations, inertias, bestInit: init, engine: 'ml-kmeans' };
    }
  }
  return best as KMeansResult;
};

function densify(x: CsrMatrix): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < x.nRows; i++) {
    const r = new Array<number>(x.nCols).fill(0);
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) r[x.indices[p]] = x.values === null ? 1 : x.values[p];
    rows.push(r);
  }
  return rows;
}

/** Centroids (k × nCols) as the means of each cluster's rows; an empty cluster's centroid is 0. */
function meansOf(x: CsrMatrix, labels: Int32Array, k: number): Float64Array {
  const d = x.nCols;
  const out = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < x.nRows; i++) {
    const c = labels[i];
    counts[c]++;
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) out[c * d + x.indices[p]] += x.values === null ? 1 : x.values[p];
  }
  for (let c = 0; c < k; c++) if (counts[c] > 0) for (let j = 0; j < d; j++) out[c * d + j] /= counts[c];
  return out;
}

function inertiaOf(x: CsrMatrix, labels: Int32Array, centroids: Float64Array, k: number): number {
  const d = x.nCols;
  const cn = new Float64Array(k);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) cn[c] += centroids[c * d + j] ** 2;
  let total = 0;
  for (let i = 0; i < x.nRows; i++) {
    const c = labels[i];
    let dot = 0;
    let xn = 0;
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) {
      const v = x.values === null ? 1 : x.values[p];
      dot += v * centroids[c * d + x.indices[p]];
      xn += v * v;
    }
    total += Math.max(0, xn - 2 * dot + cn[c]);
  }
  return total;
}
