// The recommender's pure pieces on hand-worked examples (the arithmetic is in the comments): the default
// model (CL-EASE) and the older taste model, which versions trained before it still serve.
import { buildSeedModel } from '../../functions/core/cluster-lists';
import { addFavourite, recommend, ClusterModel } from '../../functions/core/model';
import { fromSnapshot, SEED_PARAMS, toSnapshot } from '../../functions/core/snapshot';
import {
  cellTimes,
  holdoutSplit,
  mergeWeightedLists,
  mixFromNearest,
  nearestClusters,
  prepareClustering,
  recencyUnitRows,
  recommendFor,
  resolveParams,
  TasteClustering,
  unitRows,
} from '../../functions/core/recommender';
import { CsrMatrix, DataReport, InputError, Interactions } from '../../functions/core/types';
import { csrFromLists } from '../support/csr';

const close = (a: ArrayLike<number>, b: number[], digits = 6) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i], digits);
};

describe('mergeWeightedLists', () => {
  // A: weight 0.75, size 4 → 0.75·c/4: 10 → 0.75, 20 → 0.375, 30 → 0.1875
  // B: weight 0.25, size 2 → 0.25·c/2: 20 → 0.25, 40 → 0.125
  // totals: 10: 0.75, 20: 0.625, 30: 0.1875, 40: 0.125
  const A = { weight: 0.75, size: 4, movieIds: [10, 20, 30], counts: [4, 2, 1] };
  const B = { weight: 0.25, size: 2, movieIds: [20, 40], counts: [2, 1] };

  it('sums weight · count / size over the lists and ranks by score', () => {
    const out = mergeWeightedLists([A, B], new Set(), 10, 0);
    expect(out.map((i) => i.movieId)).toEqual([10, 20, 30, 40]);
    close(out.map((i) => i.score), [0.75, 0.625, 0.1875, 0.125]);
  });

  it('excludes seen movies and pages with offset/n', () => {
    expect(mergeWeightedLists([A, B], new Set([10]), 10, 0).map((i) => i.movieId)).toEqual([20, 30, 40]);
    expect(mergeWeightedLists([A, B], new Set([10]), 1, 1).map((i) => i.movieId)).toEqual([30]);
    expect(mergeWeightedLists([A, B], new Set([10]), 5, 3)).toEqual([]);
  });

  it('a small page of a long merge: the best n after offset, ties by movieId', () => {
    // movies 1..40 with count m mod 5 (size 1, weight 1): count 4 → 4, 9, 14, 19, 24, 29, 34, 39
    const movieIds = Array.from({ length: 40 }, (_, i) => i + 1);
    const list = { weight: 1, size: 1, movieIds, counts: movieIds.map((m) => m % 5) };
    expect(mergeWeightedLists([list], new Set(), 3, 0).map((i) => i.movieId)).toEqual([4, 9, 14]);
    expect(mergeWeightedLists([list], new Set([9]), 3, 2).map((i) => i.movieId)).toEqual([19, 24, 29]);
    // a page reaching past the count-4 movies continues with count 3: 3, 8, …
    expect(mergeWeightedLists([list], new Set(), 2, 7).map((i) => i.movieId)).toEqual([39, 3]);
  });

  it('breaks score ties by movieId ascending', () => {
    // 7 and 3 both score 0.5·1/1 = 0.5
    const out = mergeWeightedLists([{ weight: 0.5, size: 1, movieIds: [7, 3], counts: [1, 1] }], new Set(), 2, 0);
    expect(out.map((i) => i.movieId)).toEqual([3, 7]);
  });
});

describe('features', () => {
  it('unitRows scales each binary row to length 1', () => {
    const x = csrFromLists({ 1: [1, 2, 3, 4], 2: [5] });
    close(unitRows(x).values!, [0.5, 0.5, 0.5, 0.5, 1]);
  });

  it('recencyUnitRows halves the weight per halfLife movies back in time, then scales to unit length', () => {
    // user 1 has movies 1, 2, 3 watched at times 30, 10, 20 → time order 2, 3, 1;
    // halfLife 1: weights 2 → 0.25, 3 → 0.5, 1 → 1; length √(0.0625 + 0.25 + 1) = √1.3125
    const x = csrFromLists({ 1: [1, 2, 3] });
    const times = Float64Array.from([30, 10, 20]); // aligned with columns 1, 2, 3
    const n = Math.sqrt(1.3125);
    close(recencyUnitRows(x, times, 1).values!, [1 / n, 0.25 / n, 0.5 / n]);
    // no timestamps or halfLife 0 → plain unit rows
    close(recencyUnitRows(x, undefined, 1).values!, [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)]);
    close(recencyUnitRows(x, times, 0).values!, [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)]);
  });
});

describe('clusters and mixes', () => {
  it('prepareClustering counts, offsets ids and finds unit centre directions', () => {
    // users 1, 2 watch {1, 2} (cluster 0), user 3 watches {3} (cluster 1); ids offset by 10
    const x = csrFromLists({ 1: [1, 2], 2: [1, 2], 3: [3] });
    const part = prepareClustering(x, unitRows(x), [0, 0, 1], { idOffset: 10, minClusterSize: 0 });
    expect(part.clusters.map((c) => [c.id, c.size, c.movieIds, c.counts])).toEqual([
      [10, 2, [1, 2], [2, 2]],
      [11, 1, [3], [1]],
    ]);
    expect(part.labels).toEqual([10, 10, 11]);
    // centre 10 = mean of (1/√2, 1/√2, 0) twice → (1/√2, 1/√2, 0); centre 11 = (0, 0, 1); movie-major
    const h = Math.SQRT1_2;
    close(part.centre, [h, 0, h, 0, 0, 1]);
  });

  it('nearestClusters ranks clusters by cosine to the member row', () => {
    // centres: 0 → (1, 0, 0), 1 → (0, 0.6, 0.8); user row (0, 1/√2, 1/√2):
    // cos 0 = 0, cos 1 = (0.6 + 0.8)/√2
    const part: TasteClustering = {
      clusters: [
        { id: 0, size: 1, movieIds: [], counts: [] },
        { id: 1, size: 1, movieIds: [], counts: [] },
      ],
      labels: [],
      fix: { minClusterSize: 0, sizesBefore: {}, sizesAfter: {}, dissolved: [], moves: [] },
      centre: Float64Array.from([1, 0, 0, 0.6, 0, 0.8]),
    };
    const member: CsrMatrix = {
      nRows: 1,
      nCols: 3,
      indptr: Int32Array.from([0, 2]),
      indices: Int32Array.from([1, 2]),
      values: Float64Array.from([Math.SQRT1_2, Math.SQRT1_2]),
      rowIds: Float64Array.from([1]),
      colIds: Float64Array.from([1, 2, 3]),
    };
    const nb = nearestClusters(part, member, 5);
    expect(nb.m).toBe(2);
    expect(Array.from(nb.near)).toEqual([1, 0]);
    close(nb.cos, [1.4 / Math.SQRT2, 0]);
  });

  it('nearestClusters keeps the m best by cosine, equal cosines in cluster order', () => {
    // centres over 2 movies: 0 → (1, 0), 1 → (0, 1), 2 → (0, 1), 3 → (0.6, 0.8) (movie-major below)
    const cl = (id: number) => ({ id, size: 1, movieIds: [], counts: [] });
    const part: TasteClustering = {
      clusters: [cl(0), cl(1), cl(2), cl(3)],
      labels: [],
      fix: { minClusterSize: 0, sizesBefore: {}, sizesAfter: {}, dissolved: [], moves: [] },
      centre: Float64Array.from([1, 0, 0, 0.6, 0, 1, 1, 0.8]),
    };
    // user A = (0, 1): cos 0, 1, 1, 0.8; user B = (1, 0): cos 1, 0, 0, 0.6
    const member: CsrMatrix = {
      nRows: 2,
      nCols: 2,
      indptr: Int32Array.from([0, 1, 2]),
      indices: Int32Array.from([1, 0]),
      values: Float64Array.from([1, 1]),
      rowIds: Float64Array.from([1, 2]),
      colIds: Float64Array.from([1, 2]),
    };
    const two = nearestClusters(part, member, 2);
    expect(Array.from(two.near)).toEqual([1, 2, 0, 3]);
    close(two.cos, [1, 1, 1, 0.6]);
    const three = nearestClusters(part, member, 3);
    expect(Array.from(three.near)).toEqual([1, 2, 3, 0, 3, 1]);
    close(three.cos, [1, 1, 0.8, 1, 0.6, 0]);
  });

  it('mixFromNearest: softmax(cos / T) per clustering, clusterings weighted equally, sorted by weight', () => {
    // clustering A: clusters 0, 1 with cos 0.5, 0.4; T = 0.1 → e = 1, e^-1 → 0.731059, 0.268941; halved
    // clustering B: cluster 5 alone → weight 1, halved = 0.5
    const a = { m: 2, near: Int32Array.from([0, 1]), cos: Float64Array.from([0.5, 0.4]) };
    const b = { m: 1, near: Int32Array.from([5]), cos: Float64Array.from([0.9]) };
    const mix = mixFromNearest([a, b], 1, 0.1);
    expect(mix.ptr).toEqual([0, 3]);
    expect(mix.clusters).toEqual([5, 0, 1]);
    close(mix.weights, [0.5, 0.731059 / 2, 0.268941 / 2], 5);
  });
});

// A hand-made taste model: clusters 0 (size 2) and 1 (size 1); user 1 mixes 0.75 / 0.25
function handModel(): ClusterModel {
  return {
    userIds: [1, 2],
    userCluster: [0, 1],
    userMoviePtr: [0, 1, 2],
    userMovies: [10, 40],
    clusters: [
      { id: 0, size: 2, movieIds: [10, 20, 30], counts: [2, 1, 1] },
      { id: 1, size: 1, movieIds: [40, 30], counts: [1, 1] },
    ],
    popular: { movieIds: [10, 30, 20, 40], counts: [1, 2, 1, 1] },
    mix: { ptr: [0, 2, 3], clusters: [0, 1, 1], weights: [0.75, 0.25, 1] },
  };
}

describe('recommendFor', () => {
  it('merges the user mix: user 1 (seen 10): 30 → 0.75·1/2 + 0.25·1/1 = 0.625, 20 → 0.375, 40 → 0.25', () => {
    const r = recommendFor(handModel(), 1, { n: 10 });
    expect(r.source).toBe('cluster');
    expect(r.cluster).toBe(0);
    expect(r.items.map((i) => i.movieId)).toEqual([30, 20, 40]);
    close(r.items.map((i) => i.score), [0.625, 0.375, 0.25]);
  });

  it('gives unknown users the most-popular list, like the seed', () => {
    expect(recommendFor(handModel(), 99, { n: 2 }).items.map((i) => i.movieId)).toEqual([10, 30]);
  });

  it('answers a seed model (no mix) exactly as the seed recommend()', () => {
    const x = csrFromLists({ 1: [1, 2, 3], 2: [1, 2], 3: [4, 5], 4: [4, 6] });
    const { model } = buildSeedModel(x, [0, 0, 1, 1], 0);
    for (const u of [1, 2, 3, 4, 77]) {
      for (const [n, offset] of [[10, 0], [1, 1]]) {
        expect(recommendFor(model, u, { n, offset })).toEqual(recommend(model, u, { n, offset }));
      }
    }
  });

  it('rejects bad paging with an InputError', () => {
    expect(() => recommendFor(handModel(), 1, { n: 0 })).toThrow(InputError);
  });
});

describe('snapshot and favourites', () => {
  const data: DataReport = {
    format: 'csv', gzip: false, bytes: 0, rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, rejectedByReason: {}, examples: [],
  };
  const meta = {
    params: { ...SEED_PARAMS, algorithm: 'taste' as const },
    data,
    training: { inertia: 0, iterations: 0, inertias: [], seconds: {}, fix: { minClusterSize: 0, sizesBefore: {}, sizesAfter: {}, dissolved: [], moves: [] } },
  };

  it('round-trips the mix through the snapshot document', () => {
    const doc = JSON.parse(JSON.stringify(toSnapshot(handModel(), meta)));
    expect(doc.users.mix).toEqual(handModel().mix);
    const { model } = fromSnapshot(doc);
    expect(recommendFor(model, 1)).toEqual(recommendFor(handModel(), 1));
  });

  it('refuses a snapshot whose mix names an unknown cluster', () => {
    const doc = JSON.parse(JSON.stringify(toSnapshot(handModel(), meta)));
    doc.users.mix.clusters[1] = 9;
    expect(() => fromSnapshot(doc)).toThrow(/unknown cluster 9/);
  });

  it('a seed snapshot carries no mix', () => {
    const x = csrFromLists({ 1: [1], 2: [2] });
    const { model } = buildSeedModel(x, [0, 1], 0);
    expect('mix' in toSnapshot(model, meta).users).toBe(false);
  });

  it('a favourite from a new user gives it a one-cluster mix; the model stays valid', () => {
    const m = handModel();
    // user 0 is placed by share of [30]: cluster 0 holds 30 (share 1), cluster 1 too → lowest id 0
    const res = addFavourite(m, 0, 30);
    expect(res).toMatchObject({ newUser: true, cluster: 0, added: true });
    expect(m.mix).toEqual({ ptr: [0, 1, 3, 4], clusters: [0, 0, 1, 1], weights: [1, 0.75, 0.25, 1] });
    expect(() => fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(m, meta))))).not.toThrow();
    // user 0 has seen 30; its list is cluster 0 minus 30: 10 (2/2 = 1), 20 (1/2)
    expect(recommendFor(m, 0).items.map((i) => i.movieId)).toEqual([10, 20]);
    // and user 1's recommendations now see 30's count 2 in cluster 0: 30 → 0.75·2/3 + 0.25 = 0.75
    expect(recommendFor(m, 1).items[0]).toEqual({ movieId: 30, score: 0.75 });
  });
});

// A hand-made CL-EASE model (β 1, half-life 2). Local matrices, row = from, column = to:
//   cluster 0 (size 2), list 10, 20, 30 (counts 2, 1, 1): 10→20 0.5, 10→30 0.1, 20→10 0.2, 20→30 0.3, 30→20 0.4
//   cluster 1 (size 1), list 40, 30 (counts 1, 1):         40→30 0.25, 30→40 0.5
// user 1 watched 10 and mixes 0 (0.75) and 1 (0.25); user 2 watched 40, mix 1 (1)
function clEaseModel(): ClusterModel {
  const local = (movieIds: number[], counts: number[], b: number[]) => ({ movieIds, counts, b: Float32Array.from(b) });
  return {
    userIds: [1, 2],
    userCluster: [0, 1],
    userMoviePtr: [0, 1, 2],
    userMovies: [10, 40],
    clusters: [
      { id: 0, size: 2, movieIds: [10, 20, 30], counts: [2, 1, 1], local: local([10, 20, 30], [2, 1, 1], [0, 0.5, 0.1, 0.2, 0, 0.3, 0, 0.4, 0]) },
      { id: 1, size: 1, movieIds: [40, 30], counts: [1, 1], local: local([40, 30], [1, 1], [0, 0.25, 0.5, 0]) },
    ],
    popular: { movieIds: [10, 30, 20, 40], counts: [1, 2, 1, 1] },
    mix: { ptr: [0, 2, 3], clusters: [0, 1, 1], weights: [0.75, 0.25, 1] },
    scoring: { beta: 1, halfLife: 2 },
    recent: { ptr: [0, 1, 2], movies: [10, 40] },
  };
}

describe('the default model (CL-EASE)', () => {
  it('scores Σ w·(β·count/size + Σ ρ·B[i, m]): user 1 (10, ρ 1) → 20 0.75, 30 0.7, 40 0.25', () => {
    // cluster 0: s = B[10, ·] = (0, 0.5, 0.1) → 20: 0.75·(1/2 + 0.5) = 0.75, 30: 0.75·(1/2 + 0.1) = 0.45
    // cluster 1: no watched movie in it, s = 0 → 40: 0.25·1 = 0.25, 30: 0.25·1 = 0.25 (30 in all: 0.7)
    const r = recommendFor(clEaseModel(), 1, { n: 10 });
    expect(r).toMatchObject({ source: 'cluster', cluster: 0 });
    expect(r.items.map((i) => i.movieId)).toEqual([20, 30, 40]);
    close(r.items.map((i) => i.score), [0.75, 0.7, 0.25]);
    expect(recommendFor(clEaseModel(), 1, { n: 1, offset: 1 }).items.map((i) => i.movieId)).toEqual([30]);
  });

  it('a favourite is the newest movie at once and counts in the primary cluster', () => {
    const m = clEaseModel();
    expect(addFavourite(m, 1, 30)).toMatchObject({ added: true, cluster: 0, count: 2 });
    expect(m.recent).toEqual({ ptr: [0, 2, 3], movies: [10, 30, 40] });
    expect(m.clusters[0].local!.counts).toEqual([2, 1, 2]);
    // ρ(30) = 1, ρ(10) = 0.5^(1/2); cluster 0: s(20) = 0.7071·0.5 + 0.4 → 20: 0.75·(1/2 + 0.7536) = 0.9402;
    // cluster 1: s = ρ(30)·B[30, ·] = (0.5, 0) → 40: 0.25·(1 + 0.5) = 0.375
    const r = recommendFor(m, 1, { n: 10 });
    expect(r.items.map((i) => i.movieId)).toEqual([20, 40]);
    close(r.items.map((i) => i.score), [0.75 * (0.5 + Math.SQRT1_2 * 0.5 + 0.4), 0.375]);
    // a new user is placed in one cluster; its favourites alone drive its personal term
    expect(addFavourite(m, 3, 40)).toMatchObject({ newUser: true, cluster: 1 });
    expect(m.recent).toEqual({ ptr: [0, 2, 3, 4], movies: [10, 30, 40, 40] });
    // user 3: cluster 1 only, s = B[40, ·] = (0, 0.25) → 30: 1·(1/2 + 0.25) (size 2 now)
    expect(recommendFor(m, 3).items).toEqual([{ movieId: 30, score: 0.75 }]);
  });

  it('round-trips through the snapshot (matrices as base64 float32) and refuses a damaged one', () => {
    const doc = JSON.parse(JSON.stringify(toSnapshot(clEaseModel(), meta())));
    expect(typeof doc.clusters[0].local.b).toBe('string');
    expect(doc.scoring).toEqual({ beta: 1, halfLife: 2 });
    const { model } = fromSnapshot(structuredClone(doc));
    expect(model.clusters[0].local).toEqual(clEaseModel().clusters[0].local);
    expect(recommendFor(model, 1)).toEqual(recommendFor(clEaseModel(), 1));
    const short = structuredClone(doc);
    short.clusters[1].local.b = short.clusters[0].local.b;
    expect(() => fromSnapshot(short)).toThrow(/cluster 1's local matrix has 9 values for 2 movies/);
    const noRecent = structuredClone(doc);
    delete noRecent.users.recent;
    expect(() => fromSnapshot(noRecent)).toThrow(/needs users.recent/);
  });
});

function meta() {
  const data: DataReport = {
    format: 'csv', gzip: false, bytes: 0, rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, rejectedByReason: {}, examples: [],
  };
  return {
    params: { ...SEED_PARAMS, algorithm: 'taste' as const },
    data,
    training: { inertia: 0, iterations: 0, inertias: [], seconds: {}, fix: { minClusterSize: 0, sizesBefore: {}, sizesAfter: {}, dissolved: [], moves: [] } },
  };
}

describe('holdoutSplit', () => {
  // user 1: 5 movies → 1 test, user 2: 10 → 2 test, user 3: 4 → none (below 5)
  const x = csrFromLists({ 1: [1, 2, 3, 4, 5], 2: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3: [1, 2, 3, 4] });

  it('temporal: the last max(1, floor(0.2 n)) movies by time go to TEST, in time order', () => {
    // times: user 1 watched movie m at 100 − m (so movie 1 is newest); user 2 at m; user 3 at m
    const times = Float64Array.from([99, 98, 97, 96, 95, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4]);
    const h = holdoutSplit(x, { times });
    expect(h.mode).toBe('temporal');
    expect(h.testRows).toEqual([0, 1]);
    expect(Array.from(h.split.test.indptr)).toEqual([0, 1, 3, 3]);
    expect(Array.from(h.split.test.movieIds)).toEqual([1, 9, 10]);
    // TRAIN keeps the rest; the train times follow the train entries
    expect(Array.from(h.split.trainMatrix.indptr)).toEqual([0, 4, 12, 16]);
    expect(Array.from(h.split.trainMatrix.indices.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(h.trainTimes!.subarray(0, 4))).toEqual([98, 97, 96, 95]);
  });

  it('random: same sizes, reproducible from the seed, at most maxTestUsers users', () => {
    const a = holdoutSplit(x, { seed: 3 });
    const b = holdoutSplit(x, { seed: 3 });
    expect(a.mode).toBe('random');
    expect(Array.from(a.split.test.indptr)).toEqual([0, 1, 3, 3]);
    expect(Array.from(a.split.test.movieIds)).toEqual(Array.from(b.split.test.movieIds));
    const one = holdoutSplit(x, { seed: 3, maxTestUsers: 1 });
    expect(one.testRows.length).toBe(1);
    expect(one.split.test.length).toBe(one.testRows[0] === 0 ? 1 : 2);
  });

  it('refuses data where no user has 5 movies', () => {
    expect(() => holdoutSplit(csrFromLists({ 1: [1, 2], 2: [3] }))).toThrow(InputError);
  });
});

describe('cellTimes', () => {
  it('aligns timestamps with the matrix entries, keeping the earliest of duplicates', () => {
    // rows: (user 5, movie 20, t=7), (user 2, movie 10, t=3), (user 5, movie 10, t=9), (user 5, movie 20, t=4)
    const data: Interactions = {
      userIds: [5, 2],
      movieIds: [20, 10],
      users: Int32Array.from([0, 1, 0, 0]),
      movies: Int32Array.from([0, 1, 1, 0]),
      timestamps: Float64Array.from([7, 3, 9, 4]),
      length: 4,
    };
    const x = csrFromLists({ 2: [10], 5: [10, 20] });
    expect(Array.from(cellTimes(data, x)!)).toEqual([3, 9, 4]);
    expect(cellTimes({ ...data, timestamps: undefined }, x)).toBeUndefined();
  });
});

describe('resolveParams', () => {
  it('seed uses the seed parameters; the default model selects by validation; an explicit k fixes k', () => {
    expect(resolveParams({ algorithm: 'seed' })).toMatchObject({ ...SEED_PARAMS, algorithm: 'seed' });
    const t = resolveParams({});
    expect(t.algorithm).toBe('taste');
    expect(t.taste.select).toBe(true);
    const fixed = resolveParams({ k: 12 });
    expect(fixed.taste).toMatchObject({ k: 12, select: false });
    expect(fixed.k).toBe(12);
  });

  it('rejects bad values with one clear sentence', () => {
    expect(() => resolveParams({ taste: { temperature: 0 } })).toThrow(/taste.temperature must be a positive number/);
    expect(() => resolveParams({ algorithm: 'fancy' as never })).toThrow(InputError);
    expect(() => resolveParams({ taste: { kCandidates: [] } })).toThrow(/kCandidates/);
  });
});
