// Synthetic binary CSR for the K-means bench (no CSV round trip): planted taste clusters, Zipf
// popularity, heavy-tailed user activity (≥ 5 ratings per user). Deterministic given the seed.
import { Rng } from '../functions/core/kmeans/prng';
import { CsrMatrix } from '../functions/core/types';

/** Deterministic synthetic binary CSR: planted clusters, Zipf popularity, heavy-tailed activity. */
export function syntheticCsr(users: number, movies: number, ratings: number, clusters = 20, seed = 7): CsrMatrix {
  const rng = new Rng(seed);
  // Zipf(1) popularity CDF over movies
  const cdf = new Float64Array(movies);
  let s = 0;
  for (let j = 0; j < movies; j++) {
    s += 1 / (j + 10);
    cdf[j] = s;
  }
  for (let j = 0; j < movies; j++) cdf[j] /= s;
  const zipf = () => {
    const u = rng.next();
    let lo = 0;
    let hi = movies - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // each cluster prefers a window of movies starting at a random offset (taste), mapped through a
  // cluster-specific stride so tastes overlap only partly
  const offset = Array.from({ length: clusters }, () => rng.int(movies));
  // heavy-tailed activity: Pareto-like weights, scaled to the target total, at least 5
  const w = new Float64Array(users);
  let wsum = 0;
  for (let i = 0; i < users; i++) {
    w[i] = 1 / Math.pow(1 - rng.next(), 0.6);
    wsum += w[i];
  }
  const counts = new Int32Array(users);
  for (let i = 0; i < users; i++) counts[i] = Math.min(movies >> 1, Math.max(5, Math.round((w[i] / wsum) * ratings)));
  const indptr = new Int32Array(users + 1);
  const chunks: Int32Array[] = [];
  let nnz = 0;
  const seen = new Uint8Array(movies);
  const row = new Int32Array(movies);
  for (let i = 0; i < users; i++) {
    const g = rng.int(clusters);
    let m = 0;
    while (m < counts[i]) {
      const z = zipf();
      const j = rng.next() < 0.6 ? (offset[g] + z * 7) % movies : z;
      if (!seen[j]) {
        seen[j] = 1;
        row[m++] = j;
      }
    }
    const r = row.slice(0, m).sort();
    for (let p = 0; p < m; p++) seen[r[p]] = 0;
    chunks.push(r);
    nnz += m;
    indptr[i + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  let p = 0;
  for (const c of chunks) {
    indices.set(c, p);
    p += c.length;
  }
  return {
    nRows: users,
    nCols: movies,
    indptr,
    indices,
    values: null,
    rowIds: Float64Array.from({ length: users }, (_, i) => i + 1),
    colIds: Float64Array.from({ length: movies }, (_, j) => j + 1),
  };
}

