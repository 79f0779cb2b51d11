// K-means engine benchmark: the default engine (1 thread and all threads) on ml-latest-small and on
// synthetic CSR matrices, next to scikit-learn on the same matrices in the same run when Debian's
// python3-sklearn is installed. Not a test: timings live here.
//
//   node bin/run-ts.js bench/kmeans.ts [--sizes small,1m,5m,25m] [--tastes 20] [--n-init 1] [--simd both] [--no-sklearn]
//
// Synthetic sets: planted taste clusters (--tastes, comma-separated for several; more tastes than k = 15
// makes the structure weaker and the run longer), Zipf movie popularity, heavy-tailed user activity (≥ 5).
// --simd both also runs the scalar kernels (MOVIEREC_KMEANS_SIMD=0's path) next to the default SIMD ones.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmeans } from '../functions/core/kmeans';
import { CsrMatrix, KMeansResult } from '../functions/core/types';
import { loadRatingsCsv, ML_SMALL } from '../test/unit/kmeans-helpers';
import { syntheticCsr } from './synthetic-csr';

interface Case {
  name: string;
  users: number;
  movies: number;
  ratings: number;
  nInit: number;
}

const SYNTH: Record<string, Omit<Case, 'nInit'>> = {
  '100k': { name: 'synthetic 100k', users: 1_000, movies: 2_000, ratings: 100_000 },
  '1m': { name: 'synthetic 1M', users: 10_000, movies: 5_000, ratings: 1_000_000 },
  '5m': { name: 'synthetic 5M', users: 40_000, movies: 20_000, ratings: 5_000_000 },
  '25m': { name: 'synthetic 25M', users: 160_000, movies: 60_000, ratings: 25_000_000 },
};

const SKLEARN_PY = `
import sys, time, json, numpy as np, scipy.sparse as sp
from sklearn.cluster import KMeans
d = sys.argv[1]; n, m, k, n_init = (int(v) for v in sys.argv[2:6])
indptr = np.fromfile(d + '/indptr.bin', dtype=np.int32)
indices = np.fromfile(d + '/indices.bin', dtype=np.int32)
X = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, m))
t = time.perf_counter()
km = KMeans(n_clusters=k, n_init=n_init, max_iter=300, random_state=0).fit(X)
print(json.dumps({"seconds": time.perf_counter() - t, "inertia": float(km.inertia_), "iterations": int(km.n_iter_)}))
`;

function sklearnAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import sklearn'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runSklearn(x: CsrMatrix, k: number, nInit: number): { seconds: number; inertia: number; iterations: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kmeans-bench-'));
  try {
    writeFileSync(join(dir, 'indptr.bin'), Buffer.from(x.indptr.buffer, x.indptr.byteOffset, x.indptr.byteLength));
    writeFileSync(join(dir, 'indices.bin'), Buffer.from(x.indices.buffer, x.indices.byteOffset, x.indices.byteLength));
    const out = execFileSync('/usr/bin/python3', ['-c', SKLEARN_PY, dir, `${x.nRows}`, `${x.nCols}`, `${k}`, `${nInit}`], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return JSON.parse(out.trim().split('\n').pop() as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1048576);
}

/** wall seconds and CPU seconds of the whole process (all threads) */
async function timeIt(x: CsrMatrix, k: number, nInit: number, threads: number, simd: boolean): Promise<[KMeansResult, number, number]> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  const r = await kmeans(x, { k, nInit, maxIter: 300, tol: 1e-4, randomState: 0, threads, simd });
  const c = process.cpuUsage(c0);
  return [r, (performance.now() - t) / 1000, (c.user + c.system) / 1e6];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const sizes = arg('--sizes', 'small,1m').split(',');
  const nInitSynth = Number(arg('--n-init', '1'));
  const tastes = arg('--tastes', '20').split(',').map(Number);
  const simdModes = arg('--simd', 'on') === 'both' ? [true, false] : [true];
  const useSk = !args.includes('--no-sklearn') && sklearnAvailable();
  const k = 15;
  const maxThreads = Math.min(availableParallelism(), 8);
  console.log(`node ${process.version}, ${availableParallelism()} vCPU, sklearn: ${useSk ? 'yes' : 'no'}`);
  console.log(`load average before: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log('| data | n × d (nnz) | n_init | threads | kernels | seconds | CPU s | iterations | inertia | sklearn s | sklearn inertia | ratio time | ratio inertia | RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const runs = sizes.flatMap((size) => (size === 'small' ? [{ size, t: 0 }] : tastes.map((t) => ({ size, t }))));
  for (const { size, t: nTastes } of runs) {
    let x: CsrMatrix;
    let name: string;
    let nInit: number;
    if (size === 'small') {
      if (!existsSync(ML_SMALL)) {
        console.log(`(skipping ml-latest-small: ${ML_SMALL} not found)`);
        continue;
      }
      x = loadRatingsCsv();
      name = 'ml-latest-small';
      nInit = 10;
    } else {
      const c = SYNTH[size];
      if (!c) throw new Error(`unknown size ${size}; use small,100k,1m,5m,25m`);
      x = syntheticCsr(c.users, c.movies, c.ratings, nTastes);
      name = `${c.name}, ${nTastes} tastes`;
      nInit = nInitSynth;
    }
    const sk = useSk ? runSklearn(x, k, nInit) : null;
    for (const simd of simdModes) {
      for (const threads of Array.from(new Set([maxThreads, 1]))) {
        const [r, secs, cpu] = await timeIt(x, k, nInit, threads, simd);
        console.log(
          `| ${name} | ${x.nRows} × ${x.nCols} (${x.indptr[x.nRows]}) | ${nInit} | ${threads} | ${simd ? 'SIMD' : 'scalar'} | ${secs.toFixed(3)} | ${cpu.toFixed(2)} | ${r.iterations} | ${r.inertia.toFixed(1)} | ` +
            `${sk ? sk.seconds.toFixed(3) : '-'} | ${sk ? sk.inertia.toFixed(1) : '-'} | ${sk ? (secs / sk.seconds).toFixed(3) : '-'} | ` +
            `${sk ? (r.inertia / sk.inertia).toFixed(4) : '-'} | ${rssMb()} |`,
        );
      }
    }
  }
  console.log(`load average after: ${loadavg().map((v) => v.toFixed(2)).join(' ')} (the machine is shared: compare ratios within one run)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
