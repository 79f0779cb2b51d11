// The reference engine (ml-kmeans 7 on a dense copy) and the cross-check of the default engine.
import { kmeans } from '../../functions/core/kmeans';
import { kmeansMl, ML_KMEANS_MAX_CELLS } from '../../functions/core/kmeans/ml-kmeans';
import { CsrMatrix, InputError, KMeansOptions } from '../../functions/core/types';
import { bruteForceInertia, plantedBinary, randomBinary } from './kmeans-helpers';

const opts: KMeansOptions = { k: 5, nInit: 10, maxIter: 300, tol: 1e-4, randomState: 0, threads: 1 };

describe('kmeansMl (reference engine)', () => {
  test('its inertia is the brute-force WCSS of its labels; it reports every restart', async () => {
    const x = randomBinary(120, 30, 0.2, 21);
    const r = await kmeansMl(x, { ...opts, nInit: 3 });
    expect(r.engine).toBe('ml-kmeans');
    expect(r.inertias).toHaveLength(3);
    expect(r.inertia).toBe(Math.min(...r.inertias));
    expect(r.inertia).toBeCloseTo(bruteForceInertia(x, r.labels, 5), 8);
  });

  test('cross-check: on a small random binary matrix both engines reach inertia within 2%', async () => {
    const x = randomBinary(250, 60, 0.15, 8);
    const ours = await kmeans(x, opts);
    const ref = await kmeansMl(x, opts);
    expect(Math.abs(ours.inertia - ref.inertia) / ref.inertia).toBeLessThan(0.02);
  });

  test('cross-check: on planted clusters both engines find the same partition', async () => {
    const x = plantedBinary(200, 60, 4, 0.6, 0.02, 5);
    const ours = await kmeans(x, { ...opts, k: 4 });
    const ref = await kmeansMl(x, { ...opts, k: 4 });
    const pairs = (l: Int32Array) => Array.from(l, (a, i) => Array.from(l, (b, j) => (j > i ? Number(a === b) : 0)).join('')).join('|');
    expect(pairs(ours.labels)).toBe(pairs(ref.labels));
    expect(ours.inertia).toBeCloseTo(ref.inertia, 6);
  });

  test('refuses a matrix too large to densify, pointing to the default engine', async () => {
    const n = 10_000;
    const huge: CsrMatrix = {
      nRows: n,
      nCols: Math.ceil(ML_KMEANS_MAX_CELLS / n) + 1,
      indptr: new Int32Array(n + 1),
      indices: new Int32Array(0),
      values: null,
      rowIds: new Float64Array(n),
      colIds: new Float64Array(0),
    };
    await expect(kmeansMl(huge, opts)).rejects.toThrow(InputError);
    await expect(kmeansMl(huge, opts)).rejects.toThrow(/use the default engine/);
  });
});
