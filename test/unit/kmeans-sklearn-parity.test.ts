// The default engine reproduces scikit-learn's KMeans(n_clusters=k, n_init, random_state=seed): same
// k-means++ starting rows (numpy's RandomState stream, sklearn's greedy k-means++), same iterations, same
// labels, same inertia — on a matrix built by the product's own path (generate → read → buildMatrix),
// binary and with unit-length rows. The reference is scikit-learn itself: run live when /usr/bin/python3
// has it (and then also compared with the committed JSON, so a stale file fails), else the committed
// test/fixtures/kmeans/sklearn-reference.json (tools/kmeans-parity.ts regenerates it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmeans } from '../../functions/core/kmeans';
import { RandomState } from '../../functions/core/kmeans/mt19937';
import { CsrMatrix } from '../../functions/core/types';
import {
  CASES,
  GENERATE,
  liveSklearn,
  parityMatrix,
  REFERENCE_JSON,
  SklearnReference,
  sklearnAvailable,
  unitRows,
} from '../../tools/kmeans-parity-lib';

const work = mkdtempSync(join(tmpdir(), 'kmeans-parity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const committed: SklearnReference = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8'));
const live = sklearnAvailable();
let x: CsrMatrix;
let reference: SklearnReference;

beforeAll(async () => {
  x = await parityMatrix(work);
  reference = live ? liveSklearn(x, join(work, 'py')) : committed;
}, 120_000);

test('numpy RandomState reference values (MT19937, random_sample, randint)', () => {
  // published numpy values: np.random.RandomState(0).random_sample() etc.
  const r = new RandomState(0);
  expect(r.randomSample()).toBe(0.5488135039273248);
  expect(r.randint(160000)).toBe(117952);
  const s = new RandomState(0);
  expect(s.randint(160000)).toBe(43567);
  const u = new RandomState(4294967295);
  expect([u.randint(1000), u.randint(1000), u.randint(1000)]).toEqual([419, 290, 12]);
  expect(() => new RandomState(-1)).toThrow(RangeError);
  expect(() => new RandomState(2 ** 32)).toThrow(RangeError);
});

test(`reference: ${live ? 'scikit-learn run live, equal to the committed JSON' : 'committed sklearn-reference.json (no python3 + scikit-learn here)'}`, () => {
  expect(reference.generate).toEqual(GENERATE);
  expect(reference.cases.map(({ k, nInit, seed, weighted }) => ({ k, nInit, seed, weighted }))).toEqual(CASES);
  if (live) {
    reference.cases.forEach((c, i) => {
      const old = committed.cases[i];
      expect(c.seeds).toEqual(old.seeds);
      expect(c.iterations).toBe(old.iterations);
      expect(c.labels).toEqual(old.labels);
      expect(c.inertia).toBeCloseTo(old.inertia, 6);
    });
  }
});

describe.each(CASES.map((c, i) => [`k=${c.k} nInit=${c.nInit} seed=${c.seed}${c.weighted ? ' unit rows' : ' binary'}`, i] as const))(
  'same as scikit-learn: %s',
  (_name, i) => {
    test.each([
      [1, 'SIMD', true],
      [2, 'SIMD', true],
      [1, 'scalar', false],
      [2, 'scalar', false],
    ] as const)('threads %i, %s kernels: starting rows, iterations, labels and inertia', async (threads, _kind, simd) => {
      const ref = reference.cases[i];
      const m = ref.weighted ? unitRows(x) : x;
      expect(m.nRows).toBe(ref.labels.length);
      const r = await kmeans(m, { k: ref.k, nInit: ref.nInit, maxIter: 300, tol: 1e-4, randomState: ref.seed, threads, simd });
      expect(r.starts?.[0]).toEqual(ref.seeds);
      expect(r.iterations).toBe(ref.iterations);
      expect(Array.from(r.labels)).toEqual(ref.labels);
      expect(Math.abs(r.inertia - ref.inertia) / ref.inertia).toBeLessThan(1e-9);
    });
  },
);
