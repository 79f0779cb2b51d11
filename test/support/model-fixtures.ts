// Small hand-made models for handler and store tests: users' movies + a cluster per user → a real snapshot
// built by the core (buildSeedModel, toSnapshot), so tests exercise the exact seed semantics.
import type { TrainedModel } from '../../functions/app/upload';
import { buildSeedModel } from '../../functions/core/cluster-lists';
import { ClusterModel } from '../../functions/core/model';
import { fromSnapshot, ModelSnapshot, SEED_PARAMS, toSnapshot } from '../../functions/core/snapshot';
import type { CsrMatrix, DataReport } from '../../functions/core/types';
import { csrFromLists } from './csr';

/** users' movie lists → CSR (the shared test builder) */
export const matrixOf = csrFromLists;

export function dataReport(x: CsrMatrix): DataReport {
  const nnz = x.indptr[x.nRows];
  return {
    format: 'csv',
    gzip: false,
    bytes: 0,
    rowsRead: nnz,
    rowsAccepted: nnz,
    rowsRejected: 0,
    rejectedByReason: {},
    examples: [],
    users: x.nRows,
    movies: x.nCols,
    interactions: nnz,
    duplicatesCollapsed: 0,
  };
}

/** users: userId → movies; clusterOf: userId → cluster label. */
export function makeSnapshot(
  users: Record<number, number[]>,
  clusterOf: (userId: number) => number,
  minClusterSize = 0,
): { snapshot: ModelSnapshot; model: ClusterModel } {
  const x = matrixOf(users);
  const labels = Array.from(x.rowIds, (u) => clusterOf(u));
  const { model, fix } = buildSeedModel(x, labels, minClusterSize);
  const snapshot = toSnapshot(model, {
    params: { ...SEED_PARAMS, k: new Set(labels).size, minClusterSize },
    data: dataReport(x),
    training: { inertia: 0, iterations: 1, inertias: [0], seconds: {}, fix },
  });
  return { snapshot: structuredClone(snapshot), model };
}

/** The worked example used across store and handler tests.
 * cluster 0: users 1, 2, 3   cluster 1: users 10, 11
 *   user 1: 100 101 102       user 10: 200 201 100
 *   user 2: 100 101 103       user 11: 200 202
 *   user 3: 100 104
 * cluster 0 counts: 100:3, 101:2, 102:1, 103:1, 104:1   (ranked: 100, 101, 102, 103, 104)
 * cluster 1 counts: 200:2, 100:1, 201:1, 202:1          (ranked: 200, 100, 201, 202)
 * popular: 100:4, 101:2, 200:2, 102:1, 103:1, 104:1, 201:1, 202:1 */
export const EXAMPLE_USERS: Record<number, number[]> = {
  1: [100, 101, 102],
  2: [100, 101, 103],
  3: [100, 104],
  10: [200, 201, 100],
  11: [200, 202],
};
export const exampleCluster = (u: number) => (u < 10 ? 0 : 1);

/** A snapshot as a training run's result: a model of its own (publishing takes the model over). */
export function trainedFrom(snapshot: ModelSnapshot): TrainedModel {
  const own = structuredClone(snapshot);
  return { model: fromSnapshot(own).model, params: own.params, data: own.data, training: own.training, snapshot: own };
}

/** A snapshot's model, a copy of its own (publishing folds favourites into the model it is given). */
export const modelOf = (snapshot: ModelSnapshot): ClusterModel => fromSnapshot(structuredClone(snapshot)).model;
