// The taste model's clusterings: E spherical K-means runs (seeds seed, seed+1, …) on unit rows, each
// counted and fixed (prepareClustering), and a users' mix from them for a half-life and temperature.
import { kmeans } from '../kmeans';
import { UserMix } from '../model';
import { CsrMatrix, KMeansEngine, KMeansProgress } from '../types';
import { recencyUnitRows, unitRows } from './features';
import { RecommenderParams } from './params';
import { mixFromNearest, nearestClusters, prepareClustering, TasteClustering } from './taste';

export interface ClusteringOptions {
  engine?: KMeansEngine;
  threads?: number;
  onProgress?: (p: { step: string; kmeans?: KMeansProgress }) => void;
}

/** K-means on unit rows, E clusterings with seeds seed, seed+1, …, each counted and fixed. */
export async function tasteClusterings(
  x: CsrMatrix,
  p: RecommenderParams,
  k: number,
  opts: ClusteringOptions = {},
): Promise<{ parts: TasteClustering[]; inertias: number[]; iterations: number[] }> {
  const engine = opts.engine ?? kmeans;
  const unit = unitRows(x);
  const parts: TasteClustering[] = [];
  const inertias: number[] = [];
  const iterations: number[] = [];
  for (let e = 0; e < p.taste.ensemble; e++) {
    const r = await engine(unit, {
      k,
      nInit: p.nInit,
      maxIter: p.maxIter,
      tol: p.tol,
      randomState: (p.randomState + e) % 2 ** 32, // stays a valid RandomState seed
      threads: opts.threads,
      onProgress: (kp) => opts.onProgress?.({ step: `cluster ${e + 1}/${p.taste.ensemble} (k=${k})`, kmeans: kp }),
    });
    inertias.push(r.inertia);
    iterations.push(r.iterations);
    parts.push(prepareClustering(x, unit, r.labels, { idOffset: e * k, minClusterSize: p.minClusterSize }));
  }
  return { parts, inertias, iterations };
}

/** Users' mixes for given clusterings, recency half-life and temperature. */
export function tasteMix(
  x: CsrMatrix,
  parts: readonly TasteClustering[],
  times: Float64Array | undefined,
  halfLife: number,
  temperature: number,
  neighbours: number,
): UserMix {
  const member = recencyUnitRows(x, times, halfLife);
  return mixFromNearest(
    parts.map((q) => nearestClusters(q, member, neighbours)),
    x.nRows,
    temperature,
  );
}
