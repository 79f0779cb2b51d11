// The default model's scorer (personal.ts) against its plain definition (a Map summed in list order, a full
// sort), and the SIMD kernels that compute its sums in bulk (dots.ts) against the plain JavaScript: every
// number must be bit-identical (toEqual compares with Object.is), whatever the lists, weights and paging.
import fc from 'fast-check';
import { LocalRows } from '../../functions/core/recommender/dots';
import { CentreTable } from '../../functions/core/recommender/passes';
import { MixList, personalRow, recencyWeights, scoreUser } from '../../functions/core/recommender/personal';
import { simdAvailable } from '../../functions/core/kmeans';
import { csrFromLists } from '../support/csr';

type Item = { movieId: number; score: number };

/** recipe.py's recommend_one, written as plainly as possible */
function reference(lists: MixList[], history: number[], seen: Set<number>, beta: number, halfLife: number, n: number, offset: number): Item[] {
  const rho = new Map<number, number>();
  history.forEach((m, j) => rho.set(m, halfLife > 0 ? 0.5 ** ((history.length - 1 - j) / halfLife) : 1));
  const score = new Map<number, number>();
  for (const l of lists) {
    const L = l.movieIds.length;
    const s = new Array<number>(L).fill(0);
    for (let p = 0; p < L; p++) {
      const r = rho.get(l.movieIds[p]);
      if (r === undefined) continue;
      for (let j = 0; j < L; j++) s[j] += r * l.b[p * L + j];
    }
    for (let j = 0; j < L; j++) {
      const m = l.movieIds[j];
      if (seen.has(m)) continue;
      score.set(m, (score.get(m) ?? 0) + l.weight * ((beta * l.counts[j]) / l.size + s[j]));
    }
  }
  const items = Array.from(score, ([movieId, sc]) => ({ movieId, score: sc }));
  items.sort((a, b) => b.score - a.score || a.movieId - b.movieId);
  return items.slice(offset, offset + n);
}

const f32 = fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true });
const list = fc.integer({ min: 1, max: 12 }).chain((L) =>
  fc.record({
    weight: fc.oneof(fc.constantFrom(0.5, 1 / 3, 0.2), fc.double({ min: 0.001, max: 1, noNaN: true })),
    size: fc.integer({ min: 1, max: 50 }),
    movieIds: fc.uniqueArray(fc.oneof(fc.nat(30), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1)), { minLength: L, maxLength: L }),
    counts: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: L, maxLength: L }),
    b: fc.array(f32, { minLength: L * L, maxLength: L * L }).map((v) => Float32Array.from(v)),
  }),
);
const mixLists = fc.array(list, { minLength: 1, maxLength: 6 }).map((ls): MixList[] =>
  ls.map((l) => {
    const L = l.movieIds.length;
    const b = Float32Array.from(l.b);
    for (let j = 0; j < L; j++) b[j * L + j] = 0;
    return { ...l, b };
  }),
);

describe('scoreUser', () => {
  it('is the plain definition, bit for bit, for any lists, history, β, half-life and page', () => {
    fc.assert(
      fc.property(
        mixLists,
        fc.uniqueArray(fc.nat(30), { maxLength: 15 }),
        fc.constantFrom(0, 0.03, 0.1, 1, 10),
        fc.constantFrom(0, 2, 3, 5),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 5 }),
        (lists, history, beta, halfLife, n, offset) => {
          const seen = new Set([...history, 7]);
          expect(scoreUser(lists, history, seen, { beta, halfLife }, n, offset)).toEqual(reference(lists, history, seen, beta, halfLife, n, offset));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same answers when called many times in a row (the reused score table) and nested', () => {
    const lists: MixList[] = [{ weight: 1, size: 2, movieIds: [1, 2, 3], counts: [2, 1, 1], b: new Float32Array(9) }];
    const first = scoreUser(lists, [], new Set(), { beta: 1, halfLife: 0 }, 3);
    let inner: Item[] = [];
    const nested = { has: (m: number) => ((inner = scoreUser(lists, [], new Set([m]), { beta: 1, halfLife: 0 }, 3)), false) };
    expect(scoreUser(lists, [], nested, { beta: 1, halfLife: 0 }, 3)).toEqual(first);
    expect(inner.map((i) => i.movieId)).toEqual([1, 2]);
    expect(first).toEqual([
      { movieId: 1, score: 1 },
      { movieId: 2, score: 0.5 },
      { movieId: 3, score: 0.5 },
    ]);
  });
});

describe('the SIMD kernels make the same sums as the JavaScript', () => {
  it('this Node has WebAssembly SIMD (the bundles target Node 20+)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('LocalRows: every personal row equals personalRow’s', () => {
    fc.assert(
      fc.property(mixLists, fc.uniqueArray(fc.nat(30), { maxLength: 20 }), fc.constantFrom(0, 3), (lists, history, h) => {
        const rows = new LocalRows(lists.map((l, id) => ({ id, b: l.b, L: l.movieIds.length })));
        const rho = recencyWeights(history, h);
        // LocalRows reads the weights by column: here the movie ids are the columns
        const dense = new Float64Array(2 ** 16).fill(NaN);
        for (const [m, w] of rho) dense[m] = w;
        lists.forEach((l, id) => {
          const small = { ...l, movieIds: Array.from(l.movieIds, (m) => (m < 2 ** 16 ? m : 2 ** 16 - 1 - (m % 7))) };
          const want = personalRow(small, rho);
          const got = rows.row(id, small.movieIds, dense);
          expect(got === null ? null : Array.from(got)).toEqual(want === null ? null : Array.from(want));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('CentreTable: the same labels and nearest centres with SIMD or JavaScript, on 1 or 2 threads', async () => {
    await fc.assert(
      fc.asyncProperty(
        // more than one block of 256 rows, so a worker thread takes some
        fc.array(fc.uniqueArray(fc.nat(19), { minLength: 1, maxLength: 12 }), { minLength: 300, maxLength: 700 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        async (rows, E, k, weighted) => {
          const lists: Record<number, number[]> = {};
          rows.forEach((r, i) => (lists[i + 1] = r));
          const x = csrFromLists(lists);
          const nnz = x.indptr[x.nRows];
          const ages = Int32Array.from({ length: nnz }, (_, p) => p % 7);
          const pow = Float64Array.from({ length: 7 }, (_, a) => 0.5 ** (a / 3));
          const skip = Uint8Array.from({ length: nnz }, (_, p) => (p % 5 === 0 ? 1 : 0));
          const alive = Uint8Array.from({ length: E * k }, (_, c) => (c % 4 === 3 ? 0 : 1));
          const cnorm = Float64Array.from({ length: E * k }, (_, c) => 0.1 * (c % 3));
          // blocks of 256 rows, so a worker thread takes some; and one block of all rows
          const tables = [
            new CentreTable(x.nCols, E, k, 4096, { threads: 2, blockRows: 256 }),
            new CentreTable(x.nCols, E, k, 4096, { threads: 1, blockRows: 256 }),
            new CentreTable(x.nCols, E, k, 4096, { simd: false, threads: 2, blockRows: 256 }),
            new CentreTable(x.nCols, E, k, 8192, { threads: 2 }),
          ];
          expect(tables.map((t) => t.simd)).toEqual([true, true, false, true]);
          for (const t of tables) for (let c = 0; c < E * k; c++) for (let col = 0; col < x.nCols; col++) t.set(c, col, Math.fround(Math.sin(c * 31 + col)));
          const got = await Promise.all(
            tables.map(async (t) => ({
              labels: Array.from(await t.assign(x, skip, cnorm)),
              nearest: (await t.nearest(x, 3, alive, weighted ? { ages, pow } : null)).map((n) => ({ m: n.m, near: Array.from(n.near), cos: Array.from(n.cos) })),
            })),
          );
          expect(got[1]).toEqual(got[0]);
          expect(got[2]).toEqual(got[0]);
          expect(got[3]).toEqual(got[0]);
          expect(got[0].labels.length).toBe(E * x.nRows);
          // and the rule itself, row by row: each dot product summed in ascending p (so bit for bit)
          const table = tables[0];
          const want = { labels: new Array<number>(E * x.nRows), nearest: [] as Array<{ m: number; near: number[]; cos: number[] }> };
          const mm = (e: number) => Math.min(3, alive.subarray(e * k, (e + 1) * k).reduce((a, b) => a + b, 0));
          for (let e = 0; e < E; e++) want.nearest.push({ m: mm(e), near: [], cos: [] });
          for (let r = 0; r < x.nRows; r++) {
            const dots = (w: (p: number) => number, keep: (p: number) => boolean) =>
              Array.from({ length: E * k }, (_, c) => {
                let s = 0;
                for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (keep(p)) s += w(p) * table.table[((c >> 4) * x.nCols + x.indices[p]) * 16 + (c & 15)];
                return s;
              });
            let n = 0;
            for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) n += skip[p] ? 0 : 1;
            const v = n > 0 ? 1 / Math.sqrt(n) : 0;
            const ad = dots(() => 1, (p) => !skip[p]);
            const wt = (p: number) => (weighted ? pow[ages[p]] : 1);
            const nd = dots(wt, () => true);
            let ss = 0;
            for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) ss += wt(p) * wt(p);
            const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
            for (let e = 0; e < E; e++) {
              let best = 0;
              let bestD2 = Infinity;
              for (let j = 0; j < k; j++) {
                const d2 = Math.max(0, n * v * v - 2 * (v * ad[e * k + j]) + cnorm[e * k + j]);
                if (d2 < bestD2) [bestD2, best] = [d2, j];
              }
              want.labels[e * x.nRows + r] = best;
              const live = Array.from({ length: k }, (_, j) => e * k + j).filter((c) => alive[c]);
              live.sort((a, b) => nd[b] * inv - nd[a] * inv || a - b);
              for (const c of live.slice(0, mm(e))) {
                want.nearest[e].near.push(c);
                want.nearest[e].cos.push(nd[c] * inv);
              }
            }
          }
          expect(got[0]).toEqual(want);
        },
      ),
      { numRuns: 12 },
    );
  }, 60_000);
});
