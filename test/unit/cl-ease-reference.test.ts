// The default model against its Python reference (tools/cl_ease_reference.py, written from the research's
// recipe.py) on a generated set: given the reference's K-means labels, the port builds the same lists, the
// same local EASE matrices (to float32 rounding), the same mixes, and serves every user the same top 10.
// Fixture: `movierec generate --users 300 --movies 400 --ratings 12000 --clusters 4 --seed 1 --out r.csv`,
// then `/usr/bin/python3 tools/cl_ease_reference.py r.csv test/fixtures/cl-ease/reference 6 3 5 30 3 0.1 0.5 0.1 0`
// (k 6, 3 clusterings, 5 nearest, lists of 30, h 3, T 0.1, λ_rel 0.5, β 0.1).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { generateRatings } from '../../offline/generate';
import { readRatings } from '../../functions/core/ratings';
import { buildMatrix } from '../../functions/core/matrix';
import {
  assembleClEase,
  cellTimes,
  entryAges,
  fitLocals,
  mixFromNearest,
  nearestClusters,
  prepareClustering,
  publishedLists,
  recencyRowsFromAges,
  recommendFor,
  unionGram,
  unionOf,
  unitRows,
  userHistories,
} from '../../functions/core/recommender';
import { checkDump, ReferenceDump } from '../../tools/cl-ease-reference-lib';
import { float32FromBytes } from '../../functions/core/snapshot';

const DIR = path.join(__dirname, '..', 'fixtures', 'cl-ease');
const dump = JSON.parse(readFileSync(path.join(DIR, 'reference.json'), 'utf8')) as ReferenceDump & {
  params: { k: number; E: number; M: number; L: number; h: number; T: number; lam_rel: number; beta: number };
  labels: number[][];
};
const bBytes = readFileSync(path.join(DIR, 'reference_B.f32'));

async function data() {
  const out = new PassThrough();
  void generateRatings({ users: 300, movies: 400, ratings: 12000, clusters: 4, seed: 1 }, out).then(() => out.end());
  const { interactions } = await readRatings(out, { withTimestamps: true });
  const { matrix } = buildMatrix(interactions);
  return { x: matrix, times: cellTimes(interactions, matrix)! };
}

test('the scorer gives every user of the reference exactly its top 10 (ids and order)', () => {
  const r = checkDump(dump, bBytes);
  expect(r.users).toHaveLength(300);
  expect(r.users.filter((u) => !u.same).map((u) => u.userId)).toEqual([]);
});

test('given the reference labels, lists, local matrices and mixes are the reference ones, and so is every top 10', async () => {
  const { x, times } = await data();
  const { k, E, M, L, h, T, lam_rel: lambdaRel, beta } = dump.params;
  const unit = unitRows(x);
  const parts = dump.labels.map((labels, e) => prepareClustering(x, unit, labels, { idOffset: e * k, minClusterSize: 0 }));
  const lists = publishedLists(x, parts, L);
  expect(lists.map((l) => l.id)).toEqual(dump.clusters.map((c) => c.id));
  lists.forEach((l, j) => {
    const ref = dump.clusters[j];
    expect({ id: l.id, size: l.size, movieIds: Array.from(l.cols, (c) => x.colIds[c]), counts: Array.from(l.counts) }).toEqual({
      id: ref.id,
      size: ref.size,
      movieIds: ref.movieIds,
      counts: ref.counts,
    });
  });

  // B: float64 Cholesky here, LU inverse in numpy; both rounded to float32
  const bs = fitLocals(unionGram(x, unionOf(lists)), lists, lambdaRel);
  const refB = float32FromBytes(bBytes);
  let worst = 0;
  bs.forEach((b, j) => {
    const ref = refB.subarray(dump.clusters[j].BOffset, dump.clusters[j].BOffset + b.length);
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(b[i] - ref[i]) / Math.max(1e-3, Math.abs(ref[i])));
  });
  expect(worst).toBeLessThan(1e-5);

  const ages = entryAges(x, times);
  const member = recencyRowsFromAges(x, ages, h);
  const mix = mixFromNearest(parts.map((q) => nearestClusters(q, member, M)), x.nRows, T);
  expect(E).toBe(3);
  dump.users.forEach((u, r) => {
    expect(x.rowIds[r]).toBe(u.userId);
    const ours = new Map<number, number>();
    for (let q = mix.ptr[r]; q < mix.ptr[r + 1]; q++) ours.set(mix.clusters[q], mix.weights[q]);
    expect([...ours.keys()].sort((a, b) => a - b)).toEqual(u.mix.map(([id]) => id));
    for (const [id, w] of u.mix) expect(Math.abs(ours.get(id)! - w)).toBeLessThan(1e-12);
  });

  // the model as served, with every movie of the user in the personal term (the reference keeps them all)
  const model = assembleClEase(x, lists, bs, parts[0].labels, mix, { beta, halfLife: h }, userHistories(x, ages, h, Infinity));
  const differ = dump.users.filter((u) => JSON.stringify(recommendFor(model, u.userId, { n: 10 }).items.map((i) => i.movieId)) !== JSON.stringify(u.expectedTop10));
  expect(differ.map((u) => u.userId)).toEqual([]);
});
