// Choosing the taste model's settings: the coordinate walk on hand-made score tables (the tried
// settings are worked out in the comments), and selectTaste's fast validation path checked against
// scoring the same setting the plain way.
import { scoreRecommendations } from '../../functions/core/evaluate/score';
import {
  assembleTasteModel,
  holdoutSplit,
  nearestK,
  recommendFor,
  resolveParams,
  searchSettings,
  selectTaste,
  Setting,
  takeRows,
  tasteClusterings,
  tasteMix,
  trainRecommender,
} from '../../functions/core/recommender';
import { csrFromLists } from '../support/csr';

const SPACE = { ks: [10, 20, 30], halfLives: [2, 0], temperatures: [0.1, 0.4] };
const START = { k: 10, halfLife: 5, temperature: 0.1 };
const K: Record<number, number> = { 10: 0.1, 20: 0.3, 30: 0.2 };
const T: Record<number, number> = { 0.1: 0, 0.4: 0.05 };
const H: Record<number, number> = { 5: 0, 2: 0.02, 0: -0.01 };
const additive = async (s: Setting) => K[s.k] + T[s.temperature] + H[s.halfLife];
// k = 30 is best, but only at T = 0.4 (which round 1 reaches only after it has fixed k = 20)
const coupled = async (s: Setting) => (s.k === 30 && s.temperature === 0.4 ? 0.5 + H[s.halfLife] : additive(s));
const key = (s: Setting) => `${s.k}/${s.halfLife}/${s.temperature}`;

describe('searchSettings', () => {
  it('coordinate: from the start, half-life, then k, then temperature, each setting scored once', async () => {
    const calls: string[] = [];
    const { best, rows } = await searchSettings(SPACE, START, 'coordinate', 1, async (s) => {
      calls.push(key(s));
      return additive(s);
    });
    // start 10/5/0.1 (0.1); half-life: 10/2/0.1 (0.12), 10/0/0.1 (0.09) → 2; k: 20/2/0.1 (0.32),
    // 30/2/0.1 (0.22) → 20; temperature: 20/2/0.4 (0.37) → 0.4
    expect(calls).toEqual(['10/5/0.1', '10/2/0.1', '10/0/0.1', '20/2/0.1', '30/2/0.1', '20/2/0.4']);
    expect(rows.map(key)).toEqual(calls);
    expect(key(best)).toBe('20/2/0.4');
    expect(best.ndcg).toBeCloseTo(0.37, 12);
  });

  it('a second round finds a k that only pays at the new temperature, and a round without change stops', async () => {
    const one = await searchSettings(SPACE, START, 'coordinate', 1, coupled);
    expect(key(one.best)).toBe('20/2/0.4');
    const many = await searchSettings(SPACE, START, 'coordinate', 5, coupled);
    // round 2: half-life 20/0/0.4 (0.34); k 10/2/0.4 (0.17), 30/2/0.4 (0.52) → 30; T: 30/2/0.1 was
    // scored in round 1; round 3: half-life 30/0/0.4 (0.49), the rest already scored, no change → stops
    expect(key(many.best)).toBe('30/2/0.4');
    expect(many.rows.map(key).slice(6)).toEqual(['20/0/0.4', '10/2/0.4', '30/2/0.4', '30/0/0.4']);
    // the additive table is already optimal after round 1: round 2 scores 20/0/0.4, 10/2/0.4 and
    // 30/2/0.4, changes nothing, and stops
    const add = await searchSettings(SPACE, START, 'coordinate', 5, additive);
    expect(add.rows.map(key).slice(6)).toEqual(['20/0/0.4', '10/2/0.4', '30/2/0.4']);
    expect(key(add.best)).toBe('20/2/0.4');
  });

  it('grid: every combination, k-major; ties go to the setting tried first', async () => {
    const { best, rows } = await searchSettings(SPACE, START, 'grid', 1, async () => 0.5);
    expect(rows.length).toBe(12);
    expect(rows.slice(0, 3).map(key)).toEqual(['10/2/0.1', '10/2/0.4', '10/0/0.1']);
    expect(key(best)).toBe('10/2/0.1');
    const coord = await searchSettings(SPACE, START, 'coordinate', 1, async () => 0.5);
    expect(key(coord.best)).toBe('10/5/0.1');
    expect(key((await searchSettings(SPACE, START, 'grid', 1, coupled)).best)).toBe('30/2/0.4');
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
  it('scores each setting exactly as a model trained with it and served by recommendFor would score', async () => {
    const p = resolveParams({
      minClusterSize: 0,
      nInit: 3,
      taste: { kCandidates: [2, 3], temperatureCandidates: [0.1, 1], halfLifeCandidates: [2, 0], search: 'grid', selectNInit: 2 },
    });
    const sel = await selectTaste(X, p, { times: TIMES });
    expect(sel.mode).toBe('temporal');
    expect(sel.rows.length).toBe(8);
    // the plain way for one setting: every user placed, the model assembled, recommendFor per test user
    const h = holdoutSplit(X, { times: TIMES, seed: p.randomState, maxTestUsers: 2000 });
    const train = h.split.trainMatrix;
    for (const { k, halfLife, temperature } of [{ k: 3, halfLife: 2, temperature: 0.1 }, { k: 2, halfLife: 0, temperature: 1 }]) {
      // selection clusters with selectNInit restarts (2 here), not the final model's nInit (3)
      const { parts } = await tasteClusterings(train, { ...p, nInit: 2 }, k);
      const model = assembleTasteModel(train, parts, tasteMix(train, parts, h.trainTimes, halfLife, temperature, p.taste.neighbours), 500);
      const recs = new Map(h.testRows.map((r) => [X.rowIds[r], recommendFor(model, X.rowIds[r], { n: 10 }).items.map((i) => i.movieId)]));
      const row = sel.rows.find((r) => r.k === k && r.halfLife === halfLife && r.temperature === temperature)!;
      expect(row.ndcg).toBe(scoreRecommendations(recs, h.split)['ndcg@10']);
    }
  });

  it('coordinate (the default) scores 3 of the 4 settings here and records the search', async () => {
    const { training, params } = await trainRecommender(X, { minClusterSize: 0, taste: { kCandidates: [2, 3], temperatureCandidates: [0.1, 1], ensemble: 1 } });
    const sel = (training.taste as { selection: { rows: Array<{ k: number; temperature: number; ndcg: number }>; search: string } }).selection;
    expect(sel.search).toBe('coordinate');
    // no timestamps → half-life 0 only; start k=3 (closest to the default 80), T=0.1 (default) →
    // k=2 at T=0.1 → T=1 at the better k
    expect(sel.rows.length).toBe(3);
    expect(sel.rows.slice(0, 2).map((r) => [r.k, r.temperature])).toEqual([[3, 0.1], [2, 0.1]]);
    const kBest = sel.rows[1].ndcg > sel.rows[0].ndcg ? 2 : 3;
    expect([sel.rows[2].k, sel.rows[2].temperature]).toEqual([kBest, 1]);
    const best = sel.rows.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
    expect([params.taste.k, params.taste.temperature]).toEqual([best.k, best.temperature]);
  });
});

describe('selection and the publish check', () => {
  it('selection starts from the defaults, so a trained version’s params (carrying the selected values) select the same way again', async () => {
    const p = resolveParams({ minClusterSize: 0, taste: { kCandidates: [2, 3], temperatureCandidates: [0.1, 1], halfLifeCandidates: [2, 0] } });
    const first = await selectTaste(X, p, { times: TIMES });
    const again = await selectTaste(X, { ...p, taste: { ...p.taste, k: first.k, temperature: 1, halfLife: 2 } }, { times: TIMES });
    expect(again.rows).toEqual(first.rows);
    // start: k 3 (closest to 80), half-life 3 (the default, with timestamps), T 0.1
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
  it('default to one round of coordinate search and reject bad values', () => {
    expect(resolveParams({}).taste).toMatchObject({ search: 'coordinate', searchRounds: 1 });
    expect(() => resolveParams({ taste: { search: 'random' as never } })).toThrow(/taste.search must be "coordinate" or "grid"/);
    expect(() => resolveParams({ taste: { searchRounds: 0 } })).toThrow(/taste.searchRounds must be a positive integer/);
  });
});
