// mergeWeightedLists (a reused hash table, no Map) against the plain definition: a Map summed in list
// order, entries in order, then a full sort. Scores must be bit-identical, so toEqual (Object.is on
// numbers) is the right check; many calls in a row exercise the reuse of the table.
import fc from 'fast-check';
import { mergeWeightedLists, WeightedList } from '../../functions/core/recommender';

type Item = { movieId: number; score: number };

function reference(lists: readonly WeightedList[], seen: { has(m: number): boolean }, n: number, offset: number): Item[] {
  const score = new Map<number, number>();
  for (const l of lists) {
    if (!(l.size > 0) || !(l.weight > 0)) continue;
    const f = l.weight / l.size;
    for (let i = 0; i < l.movieIds.length; i++) {
      const m = l.movieIds[i];
      if (seen.has(m)) continue;
      score.set(m, (score.get(m) ?? 0) + f * l.counts[i]);
    }
  }
  const items = Array.from(score, ([movieId, s]) => ({ movieId, score: s }));
  items.sort((a, b) => b.score - a.score || a.movieId - b.movieId);
  return items.slice(offset, offset + n);
}

// ids: a small range (duplicates within and across lists), ids above 2^32 (some equal in their low
// 32 bits, so only the high half tells them apart) and the odd large one
const movieId = fc.oneof(
  { weight: 4, arbitrary: fc.nat(40) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(6), fc.nat(4)).map(([lo, hi]) => lo + hi * 2 ** 32) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
);
// small integer counts give many score ties; fractional ones make the summation order matter
const count = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(0.1, 0.2, 0.3, 1 / 3), fc.double({ min: -10, max: 1e6, noNaN: true }));
const weight = fc.oneof(fc.constantFrom(0, -0.5, 0.1, 0.25, 0.5, 1, 1 / 3), fc.double({ min: -1, max: 2, noNaN: true }));
// (no tiny positive sizes: weight / size would overflow to Infinity, and Infinity · 0 is NaN, which no
// ranking orders consistently; the API's sizes are user counts ≥ 1)
const size = fc.oneof(
  fc.integer({ min: -2, max: 12 }),
  fc.constantFrom(0, -0, 3.5, 1e-9),
  fc.double({ min: -5, max: 5000, noNaN: true }).filter((s) => !(s > 0 && s < 1e-9)),
);

const list = fc
  .record({
    weight,
    size,
    pairs: fc.oneof(
      fc.array(fc.tuple(movieId, count), { maxLength: 30 }),
      // long lists, so that a small page takes the bounded-buffer path (page < merged / 4)
      fc.array(fc.tuple(movieId, count), { minLength: 60, maxLength: 250 }),
    ),
    typed: fc.boolean(),
  })
  .map(({ weight, size, pairs, typed }): WeightedList => {
    const movieIds = pairs.map((p) => p[0]);
    const counts = pairs.map((p) => p[1]);
    // the API passes plain arrays; the benchmark and some callers typed ones
    return typed
      ? { weight, size, movieIds: Float64Array.from(movieIds) as unknown as number[], counts: Float64Array.from(counts) as unknown as number[] }
      : { weight, size, movieIds, counts };
  });

const call = fc.record({
  lists: fc.array(list, { maxLength: 10 }),
  seenIds: fc.array(movieId, { maxLength: 25 }),
  n: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 400 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 3000 })),
});

describe('mergeWeightedLists properties', () => {
  test('equals the Map + full sort definition, bit for bit, over many calls in a row', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 8 }), (calls) => {
        for (const { lists, seenIds, n, offset } of calls) {
          const seen = new Set(seenIds);
          expect(mergeWeightedLists(lists, seen, n, offset)).toEqual(reference(lists, seen, n, offset));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a merge too large to keep its table, then small ones again', () => {
    const big: WeightedList[] = Array.from({ length: 4 }, (_, c) => {
      const movieIds = Array.from({ length: 6000 }, (_, i) => ((i * 7919 + c * 104729) % 30000) + 2 ** 33);
      return { weight: 1 / (c + 1), size: 100 + c, movieIds, counts: movieIds.map((m, i) => (m % 7) + i / 1000) };
    });
    const small: WeightedList[] = [{ weight: 0.5, size: 2, movieIds: [5, 3, 5, 9], counts: [1, 2, 3, 4] }];
    const seen = new Set([2 ** 33 + 7, 3]);
    for (const [lists, n, offset] of [
      [small, 3, 0],
      [big, 10, 0],
      [big, 20000, 5],
      [small, 2, 1],
      [big, 7, 100],
    ] as const) {
      expect(mergeWeightedLists(lists, seen, n, offset)).toEqual(reference(lists, seen, n, offset));
    }
  });

  test('a nested call from inside seen.has gets its own table', () => {
    const inner: WeightedList[] = [{ weight: 1, size: 1, movieIds: [1, 2, 3, 2], counts: [1, 1, 1, 5] }];
    const outer: WeightedList[] = [
      { weight: 1, size: 2, movieIds: [10, 20, 30, 10], counts: [3, 2, 1, 1] },
      { weight: 0.5, size: 1, movieIds: [20, 40], counts: [4, 4] },
    ];
    const innerResults: Item[][] = [];
    const seen = {
      has(m: number) {
        innerResults.push(mergeWeightedLists(inner, new Set([3]), 5, 0));
        return m === 30;
      },
    };
    expect(mergeWeightedLists(outer, seen, 10, 0)).toEqual(reference(outer, new Set([30]), 10, 0));
    expect(innerResults).toHaveLength(6);
    for (const r of innerResults) expect(r).toEqual(reference(inner, new Set([3]), 5, 0));
  });

  test('a seen.has that throws leaves the table clean for the next call', () => {
    const lists: WeightedList[] = [{ weight: 1, size: 1, movieIds: [1, 2, 3, 4, 5], counts: [5, 4, 3, 2, 1] }];
    let calls = 0;
    const throwing = {
      has() {
        if (++calls === 4) throw new Error('boom');
        return false;
      },
    };
    expect(() => mergeWeightedLists(lists, throwing, 10, 0)).toThrow('boom');
    // movies 1, 2 and 3 were entered before the throw: none of their old scores may leak in
    const again: WeightedList[] = [{ weight: 1, size: 1, movieIds: [3, 9, 1, 2], counts: [1, 2, 3, 4] }];
    expect(mergeWeightedLists(again, new Set(), 10, 0)).toEqual([
      { movieId: 2, score: 4 },
      { movieId: 1, score: 3 },
      { movieId: 9, score: 2 },
      { movieId: 3, score: 1 },
    ]);
  });

  test('lists that grow while being merged (more movies than were counted) still merge correctly', () => {
    // seen.has appends a new movie to the list being read for its first 300 calls, so the table,
    // sized for 40 entries, has to grow mid-merge
    const make = (): WeightedList & { movieIds: number[]; counts: number[] } => ({
      weight: 1,
      size: 3,
      movieIds: Array.from({ length: 40 }, (_, i) => i),
      counts: Array.from({ length: 40 }, (_, i) => i % 4),
    });
    const growing = (l: { movieIds: number[]; counts: number[] }) => {
      let calls = 0;
      return {
        has(m: number) {
          if (calls++ < 300) {
            l.movieIds.push(1000 + calls * 3);
            l.counts.push(calls % 5);
          }
          return m % 10 === 0;
        },
      };
    };
    // a fresh copy of the module, so the table is the one sized for this call (not a larger one left
    // by earlier tests)
    let fresh!: typeof mergeWeightedLists;
    jest.isolateModules(() => {
      fresh = require('../../functions/core/recommender/serve').mergeWeightedLists;
    });
    const a = make();
    const b = make();
    expect(fresh([a], growing(a), 25, 3)).toEqual(reference([b], growing(b), 25, 3));
    expect(a.movieIds).toHaveLength(340);
  });
});
