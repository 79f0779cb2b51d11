import { kmeans } from '../../functions/core/kmeans';
import { CsrMatrix, InputError, KMeansOptions, KMeansProgress } from '../../functions/core/types';
import { bruteForceInertia, csrFromDense, nearestCentroid, plantedBinary, randomBinary } from './kmeans-helpers';

const opts = (o: Partial<KMeansOptions> = {}): KMeansOptions => ({
  k: 3,
  nInit: 3,
  maxIter: 300,
  tol: 1e-4,
  randomState: 0,
  threads: 1,
  ...o,
});

/** Groups of users with obvious tastes. Group A: three users {0,1,2} and one {0,1}; B: four {3,4,5};
 * C: four {6,7,8}. Best 3-clustering: the groups. By hand: A's centroid is (1, 1, 0.75) on movies
 * 0..2, so A contributes 3 × 0.25² + 0.75² = 0.75; B and C are identical rows (0) ⇒ inertia 0.75. */
const obvious = csrFromDense(
  [
    [1, 1, 1, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 1, 1, 1],
    [1, 1, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 1, 1, 1],
  ],
  true,
);

describe('kmeans (default engine)', () => {
  test('recovers obvious clusters exactly, with the hand-computed inertia and centroids', async () => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const r = await kmeans(obvious, opts({ randomState: seed }));
      const group = (i: number) => i % 3;
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j < 12; j++) expect(r.labels[i] === r.labels[j]).toBe(group(i) === group(j));
      }
      expect(r.inertia).toBeCloseTo(0.75, 12);
      const a = r.labels[0];
      expect(Array.from(r.centroids.subarray(a * 9, a * 9 + 9))).toEqual([1, 1, 0.75, 0, 0, 0, 0, 0, 0]);
      expect(r.engine).toBe('default');
    }
  });

  test('weighted values: 1-D points 5, 4, 1, 0.5 split into {5,4} and {1,0.5}, inertia 0.625 by hand', async () => {
    // binary, all four would be identical; the values make the difference
    const x = csrFromDense([[5], [1], [4], [0.5]]);
    const r = await kmeans(x, opts({ k: 2 }));
    expect(r.labels[0]).toBe(r.labels[2]);
    expect(r.labels[1]).toBe(r.labels[3]);
    expect(r.labels[0]).not.toBe(r.labels[1]);
    // (5−4.5)² + (4−4.5)² + (1−0.75)² + (0.5−0.75)² = 0.25 + 0.25 + 0.0625 + 0.0625
    expect(r.inertia).toBeCloseTo(0.625, 12);
  });

  test('L2-normalised rows: inertia equals a brute-force recomputation from the labels', async () => {
    const b = randomBinary(120, 30, 0.2, 9);
    const values = new Float64Array(b.indices.length);
    for (let i = 0; i < b.nRows; i++) {
      const n = b.indptr[i + 1] - b.indptr[i];
      for (let p = b.indptr[i]; p < b.indptr[i + 1]; p++) values[p] = (1 + (p % 3)) / Math.sqrt(n);
    }
    const x: CsrMatrix = { ...b, values };
    const r = await kmeans(x, opts({ k: 6 }));
    expect(r.inertia).toBeCloseTo(bruteForceInertia(x, r.labels, 6), 9);
  });

  test('inertia and centroids match a brute-force recomputation from the labels (binary)', async () => {
    const x = randomBinary(200, 50, 0.15, 5);
    const k = 5;
    const r = await kmeans(x, opts({ k, nInit: 2 }));
    expect(r.inertia / bruteForceInertia(x, r.labels, k)).toBeCloseTo(1, 10);
    // centroids are the means of their members
    for (let c = 0; c < k; c++) {
      const members = Array.from(r.labels.keys()).filter((i) => r.labels[i] === c);
      expect(members.length).toBeGreaterThan(0);
      const mean = new Float64Array(x.nCols);
      for (const i of members) for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) mean[x.indices[p]] += 1 / members.length;
      for (let j = 0; j < x.nCols; j++) expect(r.centroids[c * x.nCols + j]).toBeCloseTo(mean[j], 10);
    }
  });

  test('k beyond one register tile (k = 12, 15, 25, 124): inertia and labels agree with brute force', async () => {
    // the kernels process centres 8 at a time and seeding candidates 4 at a time (k = 25 ⇒ 5 candidates)
    const x = randomBinary(300, 60, 0.15, 13);
    for (const k of [12, 15, 25, 124]) {
      const r = await kmeans(x, opts({ k, nInit: 2, tol: 0 }));
      expect(r.inertia / bruteForceInertia(x, r.labels, k)).toBeCloseTo(1, 10);
      // a Lloyd fixed point: each row's own centroid is (one of) its nearest
      for (let i = 0; i < x.nRows; i += 7) {
        const near = nearestCentroid(x, r.centroids, k, i);
        const ownD2 = nearestCentroid(x, r.centroids.map((v, idx) => (Math.floor(idx / x.nCols) === r.labels[i] ? v : 1e9)), k, i).d2;
        expect(ownD2).toBeLessThanOrEqual(near.d2 + 1e-9);
      }
    }
  });

  test('same seed ⇒ identical labels and inertia; restarts draw from one stream in order (restart 0 = a 1-restart run)', async () => {
    const x = plantedBinary(300, 60, 4, 0.4, 0.05);
    const a = await kmeans(x, opts({ k: 4, nInit: 4, randomState: 42 }));
    const b = await kmeans(x, opts({ k: 4, nInit: 4, randomState: 42 }));
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.inertia).toBe(a.inertia);
    expect(b.inertias).toEqual(a.inertias);
    // restart 0 of a 4-restart run is the whole of a 1-restart run with the same seed
    const one = await kmeans(x, opts({ k: 4, nInit: 1, randomState: 42 }));
    expect(one.inertia).toBe(a.inertias[0]);
  });

  test('nInit keeps the lowest inertia and reports every restart', async () => {
    const x = randomBinary(150, 40, 0.2, 11);
    const r = await kmeans(x, opts({ k: 6, nInit: 6, randomState: 3 }));
    expect(r.inertias).toHaveLength(6);
    const min = Math.min(...r.inertias);
    expect(r.inertia).toBe(min);
    expect(r.bestInit).toBe(r.inertias.indexOf(min));
    // random data has several local optima: restarts must differ, or this test proves nothing
    expect(new Set(r.inertias).size).toBeGreaterThan(1);
  });

  test('maxIter is respected', async () => {
    const x = randomBinary(200, 40, 0.2, 2);
    const r = await kmeans(x, opts({ k: 8, nInit: 1, maxIter: 2, tol: 0 }));
    expect(r.iterations).toBe(2);
    const free = await kmeans(x, opts({ k: 8, nInit: 1, maxIter: 300, tol: 0 }));
    expect(free.iterations).toBeGreaterThan(2);
    expect(free.inertia).toBeLessThanOrEqual(r.inertia);
  });

  test('tol: a huge tolerance stops after one iteration; tol 0 runs until no label changes (a Lloyd fixed point)', async () => {
    const x = randomBinary(200, 40, 0.2, 4);
    const loose = await kmeans(x, opts({ k: 5, nInit: 1, tol: 1e9 }));
    expect(loose.iterations).toBe(1);
    const strict = await kmeans(x, opts({ k: 5, nInit: 1, tol: 0 }));
    expect(strict.iterations).toBeGreaterThan(1);
    for (let i = 0; i < x.nRows; i++) {
      const { c, d2 } = nearestCentroid(x, strict.centroids, 5, i);
      // its own centre is a nearest one (exact ties may go either way)
      const own = nearestCentroid(x, strict.centroids.map((v, idx) => (Math.floor(idx / x.nCols) === strict.labels[i] ? v : 1e9)), 5, i);
      expect(own.d2).toBeCloseTo(d2, 9);
      if (own.d2 > d2 + 1e-9) throw new Error(`row ${i} is closer to ${c}`);
    }
  });

  test('more clusters than distinct rows: empty clusters are relocated, no NaN, deterministic', async () => {
    const x = csrFromDense([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], true);
    const r = await kmeans(x, opts({ k: 3, nInit: 1 }));
    expect(new Set(r.labels).size).toBe(3);
    expect(r.centroids.every((v) => Number.isFinite(v))).toBe(true);
    expect(r.inertia).toBeCloseTo(bruteForceInertia(x, r.labels, 3), 12);
    const again = await kmeans(x, opts({ k: 3, nInit: 1 }));
    expect(Array.from(again.labels)).toEqual(Array.from(r.labels));
  });

  test('onProgress reports each iteration of each restart and ends with the exact inertia', async () => {
    const x = plantedBinary(200, 40, 4);
    const seen: KMeansProgress[] = [];
    const r = await kmeans(x, opts({ k: 4, nInit: 2, onProgress: (p) => seen.push({ ...p }) }));
    expect(new Set(seen.map((p) => p.init))).toEqual(new Set([0, 1]));
    const last = seen.filter((p) => p.init === r.bestInit).pop()!;
    expect(last.inertia).toBe(r.inertia);
    expect(last.iteration).toBe(r.iterations);
    expect(seen.every((p) => p.nInit === 2)).toBe(true);
  });

  test('bad input is refused with an InputError', async () => {
    const x = randomBinary(5, 4, 0.5);
    await expect(kmeans(x, opts({ k: 6 }))).rejects.toThrow(InputError);
    await expect(kmeans(x, opts({ k: 0 }))).rejects.toThrow(/k must be a positive integer/);
    await expect(kmeans(x, opts({ nInit: 0 }))).rejects.toThrow(InputError);
    await expect(kmeans(x, opts({ tol: -1 }))).rejects.toThrow(InputError);
    await expect(kmeans(x, opts({ threads: 0 }))).rejects.toThrow(InputError);
    // seeds are numpy RandomState seeds
    await expect(kmeans(x, opts({ k: 2, randomState: -1 }))).rejects.toThrow(/randomState must be an integer between 0 and 4294967295/);
    await expect(kmeans(x, opts({ k: 2, randomState: 2 ** 32 }))).rejects.toThrow(InputError);
    await expect(kmeans(x, opts({ k: 2, randomState: 0.5 }))).rejects.toThrow(InputError);
    await expect(kmeans(x, opts({ k: 2, randomState: 2 ** 32 - 1 }))).resolves.toHaveProperty('iterations');
    await expect(kmeans(randomBinary(130, 5, 0.5), opts({ k: 125 }))).rejects.toThrow(/above 124/);
    const broken: CsrMatrix = { ...x, indices: x.indices.map(() => 99) };
    await expect(kmeans(broken, opts({ k: 2 }))).rejects.toThrow(/column index 99/);
    const y = csrFromDense([[1, 1, 0], [0, 1, 1]], true);
    const unsorted: CsrMatrix = { ...y, indices: Int32Array.from([1, 0, 1, 2]) };
    await expect(kmeans(unsorted, opts({ k: 2 }))).rejects.toThrow(/row 0 has column indices not strictly ascending/);
  });
});
