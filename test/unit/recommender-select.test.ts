// Choosing the default model's settings: the coordinate walk on hand-made score tables (the tried
// settings are worked out in the comments), and selectTaste's fast validation path checked against
// scoring the same setting the plain way (a model assembled and served by recommendFor).
import { scoreRecommendations } from '../../functions/core/evaluate/score';
import {
  assembleClEase,
  entryAges,
  fitLocals,
  holdoutSplit,
  mixFromNearest,
  nearestClusters,
  nearestK,
  publishedLists,
  recencyRowsFromAges,
  recommendFor,
  resolveParams,
  SearchSpace,
  searchSettings,
  selectTaste,
  Setting,
  takeRows,
  tasteClusterings,
  tasteMix,
  trainRecommender,
  unionGram,
  unionOf,
  userHistories,
} from '../../functions/core/recommender';
import { csrFromLists } from '../support/csr';

const SPACE: SearchSpace = { halfLife: [2, 0], k: [10, 20, 30], temperature: [0.1, 0.4], lambdaRel: [0.5, 2], beta: [0.1, 1] };
const START: Setting = { halfLife: 5, k: 10, temperature: 0.1, lambdaRel: 0.5, beta: 0.1 };
const K: Record<number, number> = { 10: 0.1, 20: 0.3, 30: 0.2 };
const T: Record<number, number> = { 0.1: 0, 0.4: 0.05 };
const H: Record<number, number> = { 5: 0, 2: 0.02, 0: -0.01 };
const LAM: Record<number, number> = { 0.5: 0, 2: 0.001 };
const BETA: Record<number, number> = { 0.1: 0, 1: -0.002 };
const additive = async (s: Setting) => K[s.k] + T[s.temperature] + H[s.halfLife] + LAM[s.lambdaRel] + BETA[s.beta];
// k = 30 is best, but only at T = 0.4 (which round 1 reaches only after it has fixed k = 20)
const coupled = async (s: Setting) => (s.k === 30 && s.temperature === 0.4 ? 0.5 + H[s.halfLife] : additive(s));
const key = (s: Setting) => `${s.halfLife}/${s.k}/${s.temperature}/${s.lambdaRel}/${s.beta}`;

describe('searchSettings', () => {
  it('from the start: half-life, then k, T, λ and β, each setting scored once', async () => {
    const calls: string[] = [];
    const { best, rows } = await searchSettings(SPACE, START, 1, async (s) => {
      calls.push(key(s));
      return additive(s);
    });
    // start 5/10/0.1/0.5/0.1 (0.1); half-life 2 (0.12), 0 (0.09) → 2; k 20 (0.32), 30 (0.22) → 20;
    // T 0.4 (0.37) → 0.4; λ 2 (0.371) → 2; β 1 (0.369) → stays 0.1
    expect(calls).toEqual([
      '5/10/0.1/0.5/0.1',
      '2/10/0.1/0.5/0.1',
      '0/10/0.1/0.5/0.1',
      '2/20/0.1/0.5/0.1',
      '2/30/0.1/0.5/0.1',
      '2/20/0.4/0.5/0.1',
      '2/20/0.4/2/0.1',
      '2/20/0.4/2/1',
    ]);
    expect(rows.map(key)).toEqual(calls);
    expect(key(best)).toBe('2/20/0.4/2/0.1');
    expect(best.ndcg).toBeCloseTo(0.371, 12);
  });

  it('a second round finds a k that only pays at the new temperature; a round without change stops', async () => {
    const one = await searchSettings(SPACE, START, 1, coupled);
    expect(key(one.best)).toBe('2/20/0.4/2/0.1');
    const many = await searchSettings(SPACE, START, 5, coupled);
    // round 2: half-life 0 at the best (0.34); k 10 (0.171), 30 (0.52) → 30; T 0.1 (0.221); λ 0.5 at k 30 and
    // T 0.4 is the coupled 0.52 too (not better); β 1 (0.52): no change of λ/β; round 3 changes nothing
    expect(key(many.best)).toBe('2/30/0.4/2/0.1');
    expect(many.rows.slice(8).map(key)).toEqual([
      '0/20/0.4/2/0.1',
      '2/10/0.4/2/0.1',
      '2/30/0.4/2/0.1',
      '2/30/0.1/2/0.1',
      '2/30/0.4/0.5/0.1',
      '2/30/0.4/2/1',
      '0/30/0.4/2/0.1',
    ]);
  });

  it('ties go to the setting tried first', async () => {
    const { best, rows } = await searchSettings(SPACE, START, 2, async () => 0.5);
    expect(key(best)).toBe(key(START));
    // one round (nothing improved), every other candidate of each axis tried once
    expect(rows.length).toBe(1 + 2 + 2 + 1 + 1 + 1);
  });

  it('nearestK starts the walk at the candidate closest to the default k (ties: the smaller)', () => {
    expect(nearestK([20, 30, 50, 80, 120], 80)).toBe(80);
    expect(nearestK([20, 30, 50], 80)).toBe(50);
    expect(nearestK([20, 30], 25)).toBe(20);
  });
});

// 36 users in three overlapping taste groups (movies 1-10, 8-17, 15-24), 8 movies each
function groups(): Record<number, number[]> {
  const lists: Record<number, number[]> = {};
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < 12; i++) lists[1 + g * 12 + i] = Array.from({ length: 8 }, (_, j) => 1 + g * 7 + ((i * 3 + j) % 10));
  }
  return lists;
}
const X = csrFromLists(groups());
// a made-up timestamp per entry (not in movie order), so the hold-out is temporal and recency matters
const TIMES = Float64Array.from({ length: X.indptr[X.nRows] }, (_, p) => ((p * 7919) % 1013) * 1000);

describe('selectTaste', () => {
  const CANDS = { kCandidates: [2, 3], temperatureCandidates: [0.1, 1], halfLifeCandidates: [2, 0], lambdaCandidates: [0.5, 2], betaCandidates: [0.1, 3], listLength: 12 };

  it('scores each setting exactly as a model trained with it and served by recommendFor would score', async () => {
    const p = resolveParams({ minClusterSize: 0, nInit: 3, taste: { ...CANDS, selectNInit: 2 } });
    const sel = await selectTaste(X, p, { times: TIMES });
    expect(sel.mode).toBe('temporal');
    // the plain way for a few settings: every user placed, the model assembled, recommendFor per test user
    const h = holdoutSplit(X, { times: TIMES, seed: p.randomState, maxTestUsers: 2000 });
    const train = h.split.trainMatrix;
    const ages = entryAges(train, h.trainTimes!);
    for (const row of sel.rows.slice(0, 6)) {
      // selection clusters with selectNInit restarts (2 here), not the final model's nInit (3)
      const { parts } = await tasteClusterings(train, { ...p, nInit: 2 }, row.k);
      const lists = publishedLists(train, parts, 12);
      const bs = fitLocals(unionGram(train, unionOf(lists)), lists, row.lambdaRel);
      const member = recencyRowsFromAges(train, ages, row.halfLife);
      const mix = mixFromNearest(parts.map((q) => nearestClusters(q, member, p.taste.neighbours)), train.nRows, row.temperature);
      const scoring = { beta: row.beta, halfLife: row.halfLife };
      const model = assembleClEase(train, lists, bs, parts[0].labels, mix, scoring, userHistories(train, ages, row.halfLife, p.taste.recentMovies));
      const recs = new Map(h.testRows.map((r) => [X.rowIds[r], recommendFor(model, X.rowIds[r], { n: 10 }).items.map((i) => i.movieId)]));
      expect(row.ndcg).toBe(scoreRecommendations(recs, h.split)['ndcg@10']);
    }
  });

  it('walks from the defaults and trains with the best setting it scored', async () => {
    const { training, params } = await trainRecommender(X, { minClusterSize: 0, taste: { ...CANDS, ensemble: 1 } });
    const sel = (training.taste as { selection: { rows: Array<Setting & { ndcg: number }> } }).selection;
    // no timestamps → half-life 0 only; start k=3 (closest to the default 80), T 0.1, λ 0.5, β 0.1 (defaults)
    expect(sel.rows[0]).toMatchObject({ halfLife: 0, k: 3, temperature: 0.1, lambdaRel: 0.5, beta: 0.1 });
    const best = sel.rows.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
    expect(params.taste).toMatchObject({ k: best.k, temperature: best.temperature, halfLife: 0, lambdaRel: best.lambdaRel, beta: best.beta });
    expect(new Set(sel.rows.map(key)).size).toBe(sel.rows.length);
  });
});

describe('selection and the publish check', () => {
  it('selection starts from the defaults, so a trained version’s params (carrying the selected values) select the same way again', async () => {
    const p = resolveParams({ minClusterSize: 0, taste: { kCandidates: [2, 3], temperatureCandidates: [0.1, 1], halfLifeCandidates: [2, 0], betaCandidates: [0.1], lambdaCandidates: [0.5], listLength: 12 } });
    const first = await selectTaste(X, p, { times: TIMES });
    const again = await selectTaste(X, { ...p, taste: { ...p.taste, k: first.k, temperature: 1, halfLife: 2, beta: 3 } }, { times: TIMES });
    expect(again.rows).toEqual(first.rows);
    // start: half-life 3 (the default, with timestamps), k 3 (closest to 80), T 0.1
    expect(first.rows[0]).toMatchObject({ k: 3, halfLife: 3, temperature: 0.1 });
  });
});

describe('takeRows', () => {
  it('keeps the chosen rows in the given order with their timestamps, and their mixes are the same', async () => {
    const rows = [5, 0, 30];
    const sub = takeRows(X, TIMES, rows);
    expect(Array.from(sub.x.rowIds)).toEqual([6, 1, 31]);
    expect(sub.x.nCols).toBe(X.nCols);
    rows.forEach((r, i) => {
      expect(Array.from(sub.x.indices.subarray(sub.x.indptr[i], sub.x.indptr[i + 1]))).toEqual(Array.from(X.indices.subarray(X.indptr[r], X.indptr[r + 1])));
      expect(Array.from(sub.times!.subarray(sub.x.indptr[i], sub.x.indptr[i + 1]))).toEqual(Array.from(TIMES.subarray(X.indptr[r], X.indptr[r + 1])));
    });
    // placing only these users (what validation does) gives them the mixes placing everyone gives
    const p = resolveParams({ minClusterSize: 0, taste: { ensemble: 2 } });
    const { parts } = await tasteClusterings(X, p, 3);
    const all = tasteMix(X, parts, TIMES, 2, 0.2, 2);
    const some = tasteMix(sub.x, parts, sub.times, 2, 0.2, 2);
    rows.forEach((r, i) => {
      expect(some.clusters.slice(some.ptr[i], some.ptr[i + 1])).toEqual(all.clusters.slice(all.ptr[r], all.ptr[r + 1]));
      expect(some.weights.slice(some.ptr[i], some.ptr[i + 1])).toEqual(all.weights.slice(all.ptr[r], all.ptr[r + 1]));
    });
  });
});

describe('search parameters', () => {
  it('default to two rounds of the coordinate search and reject bad values', () => {
    expect(resolveParams({}).taste).toMatchObject({ searchRounds: 2, ensemble: 3, neighbours: 5, listLength: 100, beta: 0.1, lambdaRel: 0.5 });
    expect(() => resolveParams({ taste: { searchRounds: 0 } })).toThrow(/taste.searchRounds must be a positive integer/);
    expect(() => resolveParams({ taste: { lambdaCandidates: [0] } })).toThrow(/each taste.lambdaCandidates entry must be a positive number/);
    expect(() => resolveParams({ taste: { beta: -1 } })).toThrow(/taste.beta must be a number ≥ 0/);
  });
});
