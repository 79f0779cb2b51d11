// EASE^R (offline/evaluate/ease.ts): the SPD inverse, the primal and dual computations against a naive
// dense EASE^R written straight from the paper's formula, the validation carve, recency weights, the
// list order and the selection rule. Agreement with ../shared/eval/strong_baselines.py itself is
// test/unit/ease-agreement.test.ts.
import {
  EaseRows,
  bestEasePoint,
  easeRecommend,
  easeRecommender,
  EASE_HALF_LIVES,
  EASE_LAMBDAS,
  fitEase,
  heldOutNdcg,
  recencyWeights,
  selectEase,
  splitInteractions,
  spdInverseInPlace,
  validationCarve,
  scoreRecommendations,
  easeSelection,
} from '../../offline/evaluate';
import { mulberry32 } from '../../offline/generate';
import { Interactions } from '../../functions/core/types';

/** Gauss–Jordan with partial pivoting on a copy: an independent inverse for the checks below. */
function naiveInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((r) => r.slice(n));
}

/** A random binary matrix with timestamps: every row has ≥ 1 entry. */
function randomRows(seed: number, m: number, n: number, density: number): EaseRows {
  const rnd = mulberry32(seed);
  const indptr = [0];
  const indices: number[] = [];
  const times: number[] = [];
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      if (rnd() < density || c === r % n) {
        indices.push(c);
        times.push(1_000_000_000 + Math.floor(rnd() * 400) * 86400);
      }
    }
    indptr.push(indices.length);
  }
  return {
    rowIds: Array.from({ length: m }, (_, r) => 10 + 3 * r),
    colIds: Array.from({ length: n }, (_, c) => 100 + 7 * c),
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    times: Float64Array.from(times),
  };
}

/** EASE^R exactly as written in the paper / strong_baselines.py: B = −P/diag(P), diag(B) = 0, s = w·B. */
function naiveScores(x: EaseRows, lambda: number, w: Float64Array): number[][] {
  const n = x.colIds.length;
  const g = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < x.rowIds.length; r++) {
    for (let a = x.indptr[r]; a < x.indptr[r + 1]; a++) {
      for (let b = x.indptr[r]; b < x.indptr[r + 1]; b++) g[x.indices[a]][x.indices[b]] += 1;
    }
  }
  for (let j = 0; j < n; j++) g[j][j] += lambda;
  const p = naiveInverse(g);
  const bm = p.map((row, i) => row.map((v, j) => (i === j ? 0 : -v / p[j][j])));
  return x.rowIds.map((_, r) => {
    const s = new Array<number>(n).fill(0);
    for (let q = x.indptr[r]; q < x.indptr[r + 1]; q++) for (let j = 0; j < n; j++) s[j] += w[q] * bm[x.indices[q]][j];
    return s;
  });
}

describe('spdInverseInPlace', () => {
  it.each([1, 2, 6, 7, 13, 40])('inverts a random SPD matrix of order %i (A·A⁻¹ = I, result symmetric)', (n) => {
    const rnd = mulberry32(n);
    const b = Array.from({ length: n }, () => Array.from({ length: n }, () => rnd() - 0.5));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += b[k][i] * b[k][j];
      a[i * n + j] = s;
    }
    const inv = spdInverseInPlace(Float64Array.from(a), n);
    const ref = naiveInverse(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n))));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
        expect(inv[i * n + j]).toBe(inv[j * n + i]);
        expect(inv[i * n + j]).toBeCloseTo(ref[i][j], 9);
      }
    }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => spdInverseInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  });
});

describe('fitEase', () => {
  // wide: fewer users than movies (the dual is the default); tall: more (the primal is)
  it.each([
    ['wide', 12, 30, 'dual'],
    ['tall', 40, 15, 'primal'],
  ] as const)('%s matrix: primal and dual both equal the naive EASE^R on every unseen movie', (_, m, n, defaultForm) => {
    const x = randomRows(m * n, m, n, 0.25);
    expect(fitEase(x, 10).form).toBe(defaultForm);
    for (const [lambda, hl] of [
      [3, 0],
      [50, 30],
    ]) {
      const w = recencyWeights(x, hl);
      const want = naiveScores(x, lambda, w);
      for (const form of ['primal', 'dual'] as const) {
        const model = fitEase(x, lambda, form);
        const out = new Float64Array(n);
        for (let r = 0; r < m; r++) {
          model.score(x.indices, x.indptr[r], x.indptr[r + 1], [w], [out]);
          const seen = new Set(x.indices.subarray(x.indptr[r], x.indptr[r + 1]));
          for (let j = 0; j < n; j++) {
            if (seen.has(j)) continue;
            expect(Math.abs(out[j] - want[r][j])).toBeLessThan(1e-11 * (1 + Math.abs(want[r][j])));
          }
        }
      }
    }
  });

  it.each(['primal', 'dual'] as const)('%s: several weightings in one pass give exactly the scores of one at a time', (form) => {
    // wider than one column chunk, so the chunked primal pass is exercised
    const x = randomRows(9, 30, 1100, 0.02);
    const ws = [recencyWeights(x, 0), recencyWeights(x, 30), recencyWeights(x, 365)];
    const model = fitEase(x, 20, form);
    for (const r of [0, 7, 29]) {
      const together = ws.map(() => new Float64Array(1100));
      model.score(x.indices, x.indptr[r], x.indptr[r + 1], ws, together);
      ws.forEach((w, h) => {
        const alone = new Float64Array(1100);
        model.score(x.indices, x.indptr[r], x.indptr[r + 1], [w], [alone]);
        expect(together[h]).toEqual(alone);
      });
      expect(together[0]).not.toEqual(together[1]);
    }
  });

  it('refuses λ ≤ 0 with a sentence', () => {
    expect(() => fitEase(randomRows(1, 3, 4, 0.5), 0)).toThrow(/λ must be positive/);
  });
});

describe('easeRecommend', () => {
  it('ranks by score desc then movieId asc, the user\'s own movies last (lexsort((items, −s)))', () => {
    // movies 0 and 1 have identical columns (seen by users 1 and 2), so every user scores them equally
    const x: EaseRows = {
      rowIds: [1, 2, 3],
      colIds: [5, 9, 11, 20],
      indptr: Int32Array.from([0, 3, 6, 8]),
      indices: Int32Array.from([0, 1, 2, 0, 1, 3, 2, 3]),
      times: new Float64Array(8),
    };
    const w = recencyWeights(x, 0);
    const model = fitEase(x, 1);
    const recs = easeRecommend(model, x, w, 10);
    // user 3 has not seen 5 and 9: tied, so 5 first; then its own movies 11, 20 at −∞ in id order
    expect(recs.get(3)).toEqual([5, 9, 11, 20]);
    const s = new Float64Array(4);
    model.score(x.indices, 6, 8, [w], [s]);
    expect(s[0]).toBe(s[1]);
    // user 1 has one unseen movie, then its three own movies in movieId order
    expect(recs.get(1)).toEqual([20, 5, 9, 11]);
    expect(easeRecommend(model, x, w, 2, new Set([2])).size).toBe(1);
  });
});

/** A little ratings set: user u has 5 + (u % 6) rows, timestamps days apart with deliberate ties. */
function interactions(): Interactions {
  const users: number[] = [];
  const movies: number[] = [];
  const times: number[] = [];
  const rnd = mulberry32(3);
  for (let u = 0; u < 30; u++) {
    const n = 5 + (u % 6);
    const picked = new Set<number>();
    while (picked.size < n) picked.add(Math.floor(rnd() * rnd() * 25));
    let t = 1_500_000_000;
    for (const m of picked) {
      users.push(u);
      movies.push(m);
      times.push(t);
      if (rnd() < 0.7) t += Math.floor(rnd() * 40) * 86400; // otherwise the same second: ties by movieId
    }
  }
  return {
    userIds: Array.from({ length: 30 }, (_, u) => 100 + u),
    movieIds: Array.from({ length: 25 }, (_, m) => 1000 + m),
    users: Int32Array.from(users),
    movies: Int32Array.from(movies),
    timestamps: Float64Array.from(times),
    length: users.length,
  };
}

describe('validation carve and selection', () => {
  const split = splitInteractions(interactions());

  it('holds out each user\'s last 20 % of TRAIN by (timestamp, movieId), at least one row fitted', () => {
    const { fit, held } = validationCarve(split);
    const tr = split.train;
    for (let r = 0; r < split.userIds.length; r++) {
      const rows = [];
      for (let i = 0; i < tr.length; i++) if (tr.users[i] === r) rows.push(i);
      rows.sort((a, b) => tr.timestamps![a] - tr.timestamps![b] || split.movieIds[tr.movies[a]] - split.movieIds[tr.movies[b]]);
      const cut = Math.max(1, Math.floor(rows.length * 0.8));
      const u = split.userIds[r];
      const fr = fit.rowIds.indexOf(u);
      const fitted = Array.from(fit.indices.subarray(fit.indptr[fr], fit.indptr[fr + 1]), (c) => fit.colIds[c]);
      expect(fitted).toEqual(rows.slice(0, cut).map((i) => split.movieIds[tr.movies[i]]).sort((a, b) => a - b));
      expect([...(held.get(u) ?? [])].sort((a, b) => a - b)).toEqual(
        rows.slice(cut).map((i) => split.movieIds[tr.movies[i]]).sort((a, b) => a - b),
      );
    }
    // the fitted columns are exactly the movies still present, ascending
    const present = new Set(Array.from(fit.indices, (c) => fit.colIds[c]));
    expect(fit.colIds).toEqual([...present].sort((a, b) => a - b));
    expect(fit.colIds.length).toBeLessThanOrEqual(split.movieIds.length);
  });

  it('weights 0.5^((last − t)/(halfLife·86400)) by the row\'s own latest timestamp', () => {
    const x: EaseRows = {
      rowIds: [1, 2],
      colIds: [1, 2, 3],
      indptr: Int32Array.from([0, 2, 3]),
      indices: Int32Array.from([0, 2, 1]),
      times: Float64Array.from([0, 10 * 86400, 5]),
    };
    expect(Array.from(recencyWeights(x, 10))).toEqual([0.5, 1, 1]);
    expect(Array.from(recencyWeights(x, 0))).toEqual([1, 1, 1]);
  });

  it('NDCG over the held-out users (missing lists score 0)', () => {
    const truth = new Map([
      [1, new Set([10, 11])],
      [2, new Set([12])],
    ]);
    const v = heldOutNdcg(new Map([[1, [11, 5, 10]]]), truth);
    expect(v).toBeCloseTo((1 + 0.5) / (1 + 1 / Math.log2(3)) / 2, 15);
  });

  it('picks the best NDCG; an exact tie goes to the larger λ, then the larger half-life (Python\'s max over tuples)', () => {
    const p = (lambda: number, halfLifeDays: number, ndcg: number) => ({ lambda, halfLifeDays, ndcg });
    expect(bestEasePoint([p(50, 0, 0.2), p(400, 90, 0.3), p(100, 30, 0.1)])).toEqual(p(400, 90, 0.3));
    expect(bestEasePoint([p(400, 90, 0.3), p(50, 1000, 0.3), p(1600, 0, 0.3)])).toEqual(p(1600, 0, 0.3));
    expect(bestEasePoint([p(400, 90, 0.3), p(400, 365, 0.3), p(200, 1000, 0.3)])).toEqual(p(400, 365, 0.3));
  });

  it('scores the whole grid once per λ × half-life, the plain variant restricted to half-life 0', () => {
    const seen: string[] = [];
    const sel = selectEase(split, { onGridPoint: (q) => seen.push(`${q.lambda}/${q.halfLifeDays}`) });
    expect(seen).toEqual(EASE_LAMBDAS.flatMap((l) => EASE_HALF_LIVES.map((h) => `${l}/${h}`)));
    expect(sel.plain).toEqual(bestEasePoint(sel.grid.filter((q) => q.halfLifeDays === 0)));
    expect(sel.recency).toEqual(bestEasePoint(sel.grid));
    expect(sel.recency.ndcg).toBeGreaterThanOrEqual(sel.plain.ndcg);
    expect(sel.grid.every((q) => q.ndcg >= 0 && q.ndcg <= 1)).toBe(true);
  });

  it('the recommender refits on the whole TRAIN with the chosen settings, sharing one selection between variants', async () => {
    const chosen: number[][] = [];
    const note = (c: { lambda: number; halfLifeDays: number }) => chosen.push([c.lambda, c.halfLifeDays]);
    const plain = await easeRecommender('plain', { onSelected: note })(split, 10);
    const recency = await easeRecommender('recency', { onSelected: note })(split, 10);
    const sel = easeSelection(split);
    expect(chosen).toEqual([
      [sel.plain.lambda, 0],
      [sel.recency.lambda, sel.recency.halfLifeDays],
    ]);
    for (const recs of [plain, recency]) {
      const m = scoreRecommendations(recs, split);
      expect(m.users_missing).toBe(0);
      expect(m.train_leak_recs).toBe(0);
      expect(m.short_lists).toBe(0);
    }
  });
});
