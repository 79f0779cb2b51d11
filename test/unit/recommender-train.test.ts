// Training the recommender end to end on small data with an obvious answer: two taste groups.
import { kmeans } from '../../functions/core/kmeans';
import { buildSeedModel } from '../../functions/core/cluster-lists';
import {
  assertPublishable,
  feasibleK,
  holdoutCheck,
  HoldoutReport,
  recommendFor,
  resolveParams,
  topNForRows,
  trainRecommender,
} from '../../functions/core/recommender';
import { trainChecked } from '../../functions/core/train';
import { InputError } from '../../functions/core/types';
import { csrFromLists } from '../support/csr';

// 24 users: users 1-12 (group A) each watch 6 of movies 1-8, users 13-24 (group B) 6 of movies 11-18
function twoGroups(): Record<number, number[]> {
  const lists: Record<number, number[]> = {};
  for (let i = 0; i < 12; i++) {
    const pick = (base: number) => Array.from({ length: 6 }, (_, j) => base + ((i + j) % 8));
    lists[1 + i] = pick(1);
    lists[13 + i] = pick(11);
  }
  return lists;
}
const X = csrFromLists(twoGroups());
const FIXED = { taste: { select: false, k: 2, ensemble: 2, neighbours: 2, halfLife: 0, temperature: 0.1 }, minClusterSize: 0 };

describe('trainRecommender', () => {
  it('seed algorithm: the same model as K-means + buildSeedModel with the seed parameters', async () => {
    const res = await trainRecommender(X, { algorithm: 'seed', k: 2, nInit: 3 });
    const km = await kmeans(X, { k: 2, nInit: 3, maxIter: 300, tol: 1e-4, randomState: 0 });
    expect(res.model).toEqual(buildSeedModel(X, km.labels, 6).model);
    expect(res.model.mix).toBeUndefined();
  });

  it('taste: users mix mostly their own group, and get their group’s unseen movies first', async () => {
    const { model, params, training } = await trainRecommender(X, FIXED);
    expect(params.taste).toMatchObject({ k: 2, select: false });
    expect(model.clusters.length).toBe(4); // 2 clusterings × 2 clusters
    const mix = model.mix!;
    for (let i = 0; i < model.userIds.length; i++) {
      const w = mix.weights.slice(mix.ptr[i], mix.ptr[i + 1]);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(w.length).toBe(4);
    }
    // each group's users share their two heaviest clusters, and the groups do not
    const top2 = (u: number) => {
      const i = model.userIds.indexOf(u);
      return mix.clusters.slice(mix.ptr[i], mix.ptr[i] + 2).sort().join(',');
    };
    expect(new Set([1, 5, 12].map(top2)).size).toBe(1);
    expect(new Set([13, 17, 24].map(top2)).size).toBe(1);
    expect(top2(1)).not.toBe(top2(13));
    // user 1 watched 1..6: its group's unseen movies 7, 8 come first, far ahead of the other group's
    const r = recommendFor(model, 1, { n: 4 });
    expect(r.items.slice(0, 2).map((i) => i.movieId).sort()).toEqual([7, 8]);
    expect(r.items.slice(2).every((i) => i.movieId >= 11)).toBe(true);
    expect(r.items[2].score).toBeLessThan(r.items[1].score / 10);
    expect(training.engine).toBe('taste');
    // every cluster carries its local matrix over its published list; the model its serving settings
    for (const c of model.clusters) {
      expect(c.local!.movieIds).toEqual(c.movieIds);
      expect(c.local!.b.length).toBe(c.movieIds.length ** 2);
    }
    expect(model.scoring).toEqual({ beta: params.taste.beta, halfLife: 0 });
  });

  it('without timestamps a fixed half-life is not applied, and the notes say so', async () => {
    const { training } = await trainRecommender(X, { ...FIXED, taste: { ...FIXED.taste, halfLife: 3 } });
    expect(training.notes).toContain('no timestamps: every movie of a user weighs the same (no recency weighting).');
    expect((training.taste as { halfLife: number }).halfLife).toBe(0);
  });

  it('topNForRows (validation fast path) gives exactly recommendFor’s lists', async () => {
    // overlapping tastes so that lists mix several clusters and scores tie
    const lists = twoGroups();
    for (let u = 1; u <= 24; u += 3) lists[u].push(11 + (u % 8), 1 + (u % 8));
    const x = csrFromLists(lists);
    const { model } = await trainRecommender(x, { ...FIXED, taste: { ...FIXED.taste, k: 3, temperature: 1 } });
    const rows = Array.from({ length: x.nRows }, (_, r) => r);
    for (const n of [3, 10]) {
      const fast = topNForRows(model, x, rows, n);
      for (const u of model.userIds) {
        expect(fast.get(u)).toEqual(recommendFor(model, u, { n }).items.map((i) => i.movieId));
      }
    }
  });

  it('feasibleK keeps k with at least 6 users per cluster, else the largest that fits', () => {
    expect(feasibleK([20, 30, 50, 80, 120], 610)).toEqual([20, 30, 50, 80]);
    expect(feasibleK([20, 30], 60)).toEqual([10]);
  });
});

describe('holdoutCheck and the publish gate', () => {
  it('the taste model beats most-popular on its own hold-out and passes', async () => {
    const p = resolveParams(FIXED);
    const rep = await holdoutCheck(X, p);
    expect(rep.mode).toBe('random');
    expect(rep.users).toBe(24); // every user has 6 ≥ 5 movies
    expect(rep.testRows).toBe(24); // max(1, floor(0.2·6)) = 1 each
    // a group-A user's held-out movie is among its group's 3 unseen movies: always in the top 3
    expect(rep.model.hitrate).toBe(1);
    expect(rep.model.ndcg).toBeGreaterThan(rep.popular.ndcg);
    expect(rep.passed).toBe(true);
    expect(() => assertPublishable(rep)).not.toThrow();
  });

  it('fails when the required ratio is out of reach, and the gate then refuses (unless allowed)', async () => {
    const rep = await holdoutCheck(X, resolveParams(FIXED), { minRatio: 1000 });
    expect(rep.passed).toBe(false);
    expect(rep.reason).toMatch(/below 1000 × most-popular/);
    expect(() => assertPublishable(rep)).toThrow(InputError);
    expect(() => assertPublishable(rep, { allowBelowPopular: true })).not.toThrow();
  });

  it('trainChecked stores the report in the training summary, and refuses a failing version', async () => {
    const ok = await trainChecked(X, FIXED);
    expect(ok.holdout!.passed).toBe(true);
    expect(ok.training.holdout).toBe(ok.holdout);
    expect(ok.training.seconds.check).toBeGreaterThanOrEqual(0);
    await expect(trainChecked(X, FIXED, { minRatio: 1000 })).rejects.toMatchObject({ code: 'below_popular' });
    const forced = await trainChecked(X, FIXED, { minRatio: 1000, allowBelowPopular: true });
    expect(forced.holdout!.passed).toBe(false);
    expect((await trainChecked(X, FIXED, { check: false })).holdout).toBeNull();
  });

  it('the refusal names both scores', () => {
    const rep = { passed: false, reason: 'held-out NDCG@10 0.0100 is below 1 × most-popular\'s 0.0500 on 9 users (random hold-out)' } as HoldoutReport;
    try {
      assertPublishable(rep);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).code).toBe('below_popular');
      expect((e as InputError).message).toMatch(/0\.0100.*0\.0500/);
    }
  });
});
