// The product's seed cluster model as a Recommender, trained on TRAIN only: K-means on the binary
// TRAIN matrix → buildSeedModel (cluster counts, fixClusters) → recommend (cluster list minus seen).

import { buildSeedModel } from '../../functions/core/cluster-lists';
import { recommend } from '../../functions/core/model';
import { SEED_PARAMS, TrainingParams } from '../../functions/core/snapshot';
import { KMeansEngine } from '../../functions/core/types';
import { Recommendations, Recommender } from '../../functions/core/evaluate/score';

export interface SeedRecommenderOptions {
  params?: Partial<TrainingParams>;
  /** the K-means engine to train with (e.g. `kmeans` from functions/core/kmeans, or loadEngine(params.engine));
   * passed in so this module depends only on the contract */
  engine: KMeansEngine;
  threads?: number;
  /** receives the K-means labels (one per split.userIds row), e.g. for quality.py --seed-labels */
  onLabels?: (labels: Int32Array) => void;
}

export function seedRecommender(opts: SeedRecommenderOptions): Recommender {
  const params: TrainingParams = { ...SEED_PARAMS, ...opts.params };
  return async (split, k) => {
    const x = split.trainMatrix;
    const result = await opts.engine(x, {
      k: params.k,
      nInit: params.nInit,
      maxIter: params.maxIter,
      tol: params.tol,
      randomState: params.randomState,
      threads: opts.threads,
    });
    opts.onLabels?.(result.labels);
    const { model } = buildSeedModel(x, result.labels, params.minClusterSize);
    const recs: Recommendations = new Map();
    for (const u of split.userIds) recs.set(u, recommend(model, u, { n: k }).items.map((i) => i.movieId));
    return recs;
  };
}

/** A K-means "engine" that returns fixed labels: runs the rest of the seed algorithm on externally
 * computed clusters (the counterpart of quality.py --seed-labels). */
export function fixedLabelsEngine(labels: ArrayLike<number>): KMeansEngine {
  return async (x) => {
    if (labels.length !== x.nRows) {
      throw new RangeError(`${labels.length} labels for ${x.nRows} TRAIN users`);
    }
    return {
      labels: Int32Array.from(labels),
      centroids: new Float64Array(0),
      inertia: NaN,
      iterations: 0,
      inertias: [],
      bestInit: 0,
      engine: 'fixed-labels',
    };
  };
}
