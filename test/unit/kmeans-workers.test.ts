// Worker-thread mode: identical results whatever the thread count, and the eval'd worker source keeps
// working when the engine is bundled the way the CLI (run-ts) and a minified Lambda bundle build it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { kmeans } from '../../functions/core/kmeans';
import { workerSource } from '../../functions/core/kmeans/pool';
import { CsrMatrix, KMeansOptions } from '../../functions/core/types';
import { plantedBinary } from './kmeans-helpers';

const opts: KMeansOptions = { k: 7, nInit: 2, maxIter: 300, tol: 1e-4, randomState: 5 };

describe('kmeans worker threads', () => {
  // 2,000 rows = 8 blocks of 256, so 2 and 3 threads really split the work
  const x = plantedBinary(2000, 120, 6, 0.3, 0.03, 17);

  test('1, 2 and 3 threads give bit-identical labels, inertias and centroids', async () => {
    const one = await kmeans(x, { ...opts, threads: 1 });
    for (const threads of [2, 3]) {
      const r = await kmeans(x, { ...opts, threads });
      expect(Array.from(r.labels)).toEqual(Array.from(one.labels));
      expect(r.inertias).toEqual(one.inertias);
      expect(r.inertia).toBe(one.inertia);
      expect(r.iterations).toBe(one.iterations);
      expect(Buffer.from(r.centroids.buffer).equals(Buffer.from(one.centroids.buffer))).toBe(true);
    }
  });

  test('weighted values (and k = 15, groups of 4 padded to 16) give identical results in worker mode too', async () => {
    const values = new Float64Array(x.indices.length).map((_, p) => 1 + (p % 5) / 4);
    const w: CsrMatrix = { ...x, values };
    const one = await kmeans(w, { ...opts, k: 15, threads: 1 });
    const two = await kmeans(w, { ...opts, k: 15, threads: 2 });
    expect(Array.from(two.labels)).toEqual(Array.from(one.labels));
    expect(two.inertia).toBe(one.inertia);
  });

  test('the worker source parses as one script', () => {
    expect(() => new Function('require', workerSource())).not.toThrow();
  });

  test('a minified, keepNames esbuild bundle (as for Lambda) runs worker mode with the same result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmeans-bundle-'));
    try {
      const entry = join(dir, 'entry.ts');
      const data = join(dir, 'x.json');
      const plain = (m: CsrMatrix) => ({ ...m, indptr: Array.from(m.indptr), indices: Array.from(m.indices), rowIds: [], colIds: [] });
      writeFileSync(data, JSON.stringify(plain(x)));
      writeFileSync(
        entry,
        `import { kmeans } from ${JSON.stringify(resolve(__dirname, '../../functions/core/kmeans'))};
         import { readFileSync } from 'node:fs';
         const m = JSON.parse(readFileSync(${JSON.stringify(data)}, 'utf8'));
         const x = { ...m, indptr: Int32Array.from(m.indptr), indices: Int32Array.from(m.indices),
                     rowIds: new Float64Array(0), colIds: new Float64Array(0) };
         kmeans(x, { ...${JSON.stringify(opts)}, threads: 2 }).then((r) =>
           process.stdout.write(JSON.stringify({ inertia: r.inertia, labels: Array.from(r.labels) })));`,
      );
      const out = join(dir, 'bundle.js');
      buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, keepNames: true, logLevel: 'error' });
      const got = JSON.parse(execFileSync(process.execPath, [out], { encoding: 'utf8' }));
      const want = await kmeans(x, { ...opts, threads: 1 });
      expect(got.inertia).toBe(want.inertia);
      expect(got.labels).toEqual(Array.from(want.labels));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
