// The distributed training's K-means (map/reduce over partitions, functions/core/distributed) against the
// single-function engine on the same matrix: from the same k-means++ draws to the same labels and inertia,
// whatever the partitioning. The steps run in order in one process over in-memory ports
// (test/support/distributed-driver.ts); the state machine itself is tested in
// test/integration/distributed-training.test.ts.
import { PassThrough } from 'node:stream';
import { getJson, runKeys } from '../../functions/app/distributed/run-files';
import { bestLabels } from '../../functions/app/distributed/cluster';
import { loadRun } from '../../functions/app/distributed/state';
import { kmeans } from '../../functions/core/kmeans';
import { buildMatrix } from '../../functions/core/matrix';
import { readRatings } from '../../functions/core/ratings';
import { unitRows } from '../../functions/core/recommender/features';
import type { TrainOverrides } from '../../functions/core/train';
import type { CsrMatrix } from '../../functions/core/types';
import { runClustering } from '../support/distributed-driver';
import { generatedCsv } from '../support/generated';
import { MemoryRunStore, MemoryUpload } from '../support/memory-runs';

async function matrixOf(bytes: Buffer): Promise<CsrMatrix> {
  const s = new PassThrough();
  s.end(bytes);
  return buildMatrix((await readRatings(s)).interactions).matrix;
}

async function distributed(bytes: Buffer, params: TrainOverrides, shards: number) {
  const runs = new MemoryRunStore();
  await runClustering(
    { version: 'v1', source: { bucket: 'b', key: 'uploads/r.csv' }, sourceOrder: 'o', params, options: { shards } },
    { runs, upload: new MemoryUpload(bytes) },
  );
  const run = await loadRun(runs, 'v1');
  const jobs = [];
  for (let j = 0; j < run.model!.jobs.length; j++) {
    const labels: number[] = [];
    for (let q = 0; q < run.shards!.rows.length; q++) labels.push(...(await bestLabels(runs, run, j, q)));
    const state = await getJson<{ starts: number[][] }>(runs, runKeys.job('v1', j));
    jobs.push({ labels, starts: state.starts, ...run.results![j] });
  }
  return { run, jobs, runs };
}

let gen: Buffer;
let x: CsrMatrix;
beforeAll(async () => {
  gen = await generatedCsv({ users: 1300, movies: 700, ratings: 45_000, clusters: 6, seed: 11 });
  x = await matrixOf(gen);
});

describe.each([1, 3, 4])('binary rows (the seed algorithm), %i partition(s)', (shards) => {
  test('same starts, labels, inertias and iterations as the engine', async () => {
    const single = await kmeans(x, { k: 9, nInit: 2, maxIter: 300, tol: 1e-4, randomState: 5, threads: 1 });
    const { run, jobs } = await distributed(gen, { algorithm: 'seed', k: 9, nInit: 2, randomState: 5 }, shards);
    expect(run.shards!.rows).toHaveLength(shards);
    const [d] = jobs;
    expect(d.starts).toEqual(single.starts);
    expect(d.inertias).toEqual(single.inertias); // bit for bit: binary sums are exact in any order
    expect(d.iterations).toBe(single.iterations);
    expect(d.labels).toEqual(Array.from(single.labels));
  });
});

test('unit rows (the taste model), 4 partitions: same labels, inertia within 1e-9', async () => {
  const unit = unitRows(x);
  const { jobs } = await distributed(gen, { algorithm: 'taste', k: 10, nInit: 1, randomState: 2, taste: { ensemble: 2 } }, 4);
  expect(jobs).toHaveLength(2);
  for (let e = 0; e < 2; e++) {
    const single = await kmeans(unit, { k: 10, nInit: 1, maxIter: 300, tol: 1e-4, randomState: 2 + e, threads: 1 });
    expect(jobs[e].starts).toEqual(single.starts);
    expect(jobs[e].labels).toEqual(Array.from(single.labels));
    expect(jobs[e].iterations).toBe(single.iterations);
    expect(Math.abs(jobs[e].inertia - single.inertia) / single.inertia).toBeLessThanOrEqual(1e-9);
  }
});

test('empty clusters are refilled as the engine refills them (duplicate rows, k above the distinct rows)', async () => {
  // 60 users with only 5 distinct movie sets: k-means++ runs out of distinct rows and picks duplicates,
  // whose clusters come out empty and are relocated
  const sets = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [2, 11, 12]];
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 60; u++) for (const m of sets[u % 5]) lines.push(`${u},${m},4,${1000 + u}`);
  const bytes = Buffer.from(lines.join('\n') + '\n');
  const m = await matrixOf(bytes);
  const single = await kmeans(m, { k: 8, nInit: 1, maxIter: 300, tol: 1e-4, randomState: 0, threads: 1 });
  const { jobs, runs } = await distributed(bytes, { algorithm: 'seed', k: 8, nInit: 1, minClusterSize: 0 }, 3);
  expect(new Set(single.starts![0]).size).toBeLessThan(8); // the premise: duplicate starts
  expect([...runs.objects.keys()].some((k) => k.endsWith('/relocations.json'))).toBe(true); // rows were relocated
  expect(jobs[0].labels).toEqual(Array.from(single.labels));
  expect(jobs[0].inertia).toBe(single.inertia);
  expect(jobs[0].iterations).toBe(single.iterations);
});
