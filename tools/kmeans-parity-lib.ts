// Parity of the default K-means engine with scikit-learn's KMeans (same matrix, same random_state ⇒ same
// k-means++ seeds, iterations, labels and inertia). The matrix comes from the product's own path:
// generateRatings → readRatings → buildMatrix (binary), and its L2-normalised rows (weighted: the taste
// model's input). scikit-learn's answers (tools/sklearn_kmeans.py) are committed in
// test/fixtures/kmeans/sklearn-reference.json — regenerate with `node bin/run-ts.js tools/kmeans-parity.ts`
// — and recomputed live by the test when /usr/bin/python3 has scikit-learn.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { generateRatings, GenerateOptions } from '../offline/generate';
import { buildMatrix } from '../functions/core/matrix';
import { readRatings } from '../functions/core/ratings';
import { unitRows } from '../functions/core/recommender/features';
import { CsrMatrix } from '../functions/core/types';

export const REPO = resolve(__dirname, '..');
export const REFERENCE_JSON = join(REPO, 'test', 'fixtures', 'kmeans', 'sklearn-reference.json');
export const PYTHON = '/usr/bin/python3';

/** 1,200 users × 900 movies, 40,000 ratings, 8 planted tastes: enough for tens of Lloyd iterations. */
export const GENERATE: GenerateOptions = { users: 1200, movies: 900, ratings: 40_000, clusters: 8, seed: 11 };

export interface ParityCase {
  k: number;
  nInit: number;
  seed: number;
  weighted: boolean;
}

export const CASES: ParityCase[] = [
  { k: 15, nInit: 1, seed: 0, weighted: false },
  { k: 15, nInit: 3, seed: 7, weighted: false },
  { k: 40, nInit: 1, seed: 0, weighted: false },
  { k: 12, nInit: 2, seed: 0, weighted: true },
];

export interface SklearnCase extends ParityCase {
  seeds: number[];
  iterations: number;
  inertia: number;
  labels: number[];
}

export interface SklearnReference {
  sklearn: string;
  generate: GenerateOptions;
  cases: SklearnCase[];
}

export async function parityMatrix(dir: string): Promise<CsrMatrix> {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'ratings.csv');
  const out = createWriteStream(csv);
  await generateRatings(GENERATE, out);
  out.end();
  await finished(out);
  const { interactions } = await readRatings(csv);
  return buildMatrix(interactions).matrix;
}

/** The taste model's input: every row scaled to unit length (functions/core/recommender/features.ts). */
export { unitRows } from '../functions/core/recommender/features';

export function sklearnAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import sklearn, scipy, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs tools/sklearn_kmeans.py on the matrix (written to `dir`). */
export function liveSklearn(x: CsrMatrix, dir: string): SklearnReference {
  mkdirSync(dir, { recursive: true });
  const nnz = x.indptr[x.nRows];
  const buf = (a: Int32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(dir, 'indptr.bin'), buf(x.indptr));
  writeFileSync(join(dir, 'indices.bin'), buf(x.indices.subarray(0, nnz)));
  writeFileSync(join(dir, 'data.bin'), buf(unitRows(x).values as Float64Array));
  writeFileSync(join(dir, 'shape.json'), JSON.stringify([x.nRows, x.nCols]));
  const stdout = execFileSync(PYTHON, [join(REPO, 'tools', 'sklearn_kmeans.py'), dir, JSON.stringify(CASES)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const r = JSON.parse(stdout) as { sklearn: string; cases: SklearnCase[] };
  return { sklearn: r.sklearn, generate: GENERATE, cases: r.cases };
}
