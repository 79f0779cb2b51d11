// buildMatrix's timestamps and ages, computed while the matrix is built, against the functions they replace on
// the training path: cellTimes (each cell's earliest timestamp, found afterwards) and entryAges (each entry's
// age in its row), and both against a plain reference.
import fc from 'fast-check';
import { buildMatrix } from '../../functions/core/matrix';
import { entryAges } from '../../functions/core/recommender/features';
import { cellTimes } from '../../functions/core/recommender/holdout';
import type { CsrMatrix, Interactions } from '../../functions/core/types';

interface Row {
  u: number;
  m: number;
  ts: number;
}

/** Interactions as the reader makes them: raw ids → dense indices in first-appearance order. */
function interactionsOf(rows: Row[], withTimes: boolean): Interactions {
  const userIds: number[] = [];
  const movieIds: number[] = [];
  const uIdx = new Map<number, number>();
  const mIdx = new Map<number, number>();
  const users = new Int32Array(rows.length);
  const movies = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    if (!uIdx.has(r.u)) uIdx.set(r.u, userIds.push(r.u) - 1);
    if (!mIdx.has(r.m)) mIdx.set(r.m, movieIds.push(r.m) - 1);
    users[i] = uIdx.get(r.u)!;
    movies[i] = mIdx.get(r.m)!;
  });
  const x: Interactions = { userIds, movieIds, users, movies, length: rows.length };
  if (withTimes) x.timestamps = Float64Array.from(rows, (r) => r.ts);
  return x;
}

/** Reference ages: per row, rank the entries by (time, movie) — newest is 0. */
function referenceAges(x: CsrMatrix, times: Float64Array): Int32Array {
  const ages = new Int32Array(x.indptr[x.nRows]);
  for (let r = 0; r < x.nRows; r++) {
    const ps: number[] = [];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) ps.push(p);
    ps.sort((p, q) => (times[p] < times[q] ? -1 : times[p] > times[q] ? 1 : x.indices[p] - x.indices[q]));
    ps.forEach((p, rank) => (ages[p] = ps.length - 1 - rank));
  }
  return ages;
}

// small id ranges so pairs repeat and times tie; times of every kind the keyed and comparator paths meet
const time = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 31 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2 ** 49, max: Number.MAX_SAFE_INTEGER }) },
  { weight: 1, arbitrary: fc.integer({ min: -50, max: -1 }) },
  { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);
const row = fc.record({ u: fc.integer({ min: 1, max: 6 }), m: fc.integer({ min: 1, max: 14 }), ts: time });
const data = fc.record({
  rows: fc.array(row, { minLength: 0, maxLength: 90 }),
  // as generated; grouped by user in time order (a log, the generator); grouped by user in movie order (MovieLens)
  order: fc.constantFrom('any', 'time', 'movie'),
  finite: fc.boolean(),
  withTimes: fc.boolean(),
});

function arrange(d: { rows: Row[]; order: string; finite: boolean }): Row[] {
  const rows = d.finite ? d.rows.map((r) => ({ ...r, ts: Number.isFinite(r.ts) ? r.ts : 7 })) : d.rows;
  if (d.order === 'time') return [...rows].sort((a, b) => a.u - b.u || a.ts - b.ts);
  if (d.order === 'movie') return [...rows].sort((a, b) => a.u - b.u || a.m - b.m);
  return rows;
}

describe('buildMatrix with times and ages', () => {
  test('property: the same matrix; times = cellTimes; ages = entryAges = the reference', () => {
    fc.assert(
      fc.property(data, (d) => {
        const x = interactionsOf(arrange(d), d.withTimes);
        const plain = buildMatrix(x);
        const built = buildMatrix(x, { times: true, ages: true });
        expect(built.matrix).toEqual(plain.matrix);
        expect(built.duplicatesCollapsed).toBe(plain.duplicatesCollapsed);
        const times = cellTimes(x, plain.matrix);
        expect(built.times).toEqual(times);
        if (times === undefined) {
          expect(built.ages).toBeUndefined();
          return;
        }
        const ages = entryAges(plain.matrix, times);
        expect(built.ages).toEqual(ages);
        expect(ages).toEqual(referenceAges(plain.matrix, times));
        // times alone: the same times, no ages
        const timesOnly = buildMatrix(x, { times: true });
        expect(timesOnly.times).toEqual(times);
        expect(timesOnly.ages).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  test('a matrix too wide for 32-bit sort keys (columns · 2^bits > 2^32) sorts with exact double keys', () => {
    // one user with 1,500 movies in a scrambled order (bits = 11) next to 2.2M movies of one entry each:
    // 2^32 / 2^11 = 2^21 columns is the 32-bit limit. Built directly (dense ids = raw ids).
    const head = 1500;
    const others = 2_200_000;
    const n = head + others;
    const users = new Int32Array(n);
    const movies = new Int32Array(n);
    const timestamps = new Float64Array(n);
    for (let j = 0; j < head; j++) {
      movies[j] = (j * 7919) % others; // a permutation of 1,500 distinct movies
      timestamps[j] = 1000 + ((j * 37) % 700); // ties too
    }
    for (let i = head; i < n; i++) {
      users[i] = 1 + ((i - head) >> 10);
      movies[i] = i - head;
      timestamps[i] = i;
    }
    const userIds = Array.from({ length: users[n - 1] + 1 }, (_, u) => u);
    const movieIds = Array.from({ length: others }, (_, m) => m);
    const x: Interactions = { userIds, movieIds, users, movies, timestamps, length: n };
    const plain = buildMatrix(x);
    expect(plain.matrix.nCols * 2 ** 11).toBeGreaterThan(2 ** 32);
    const built = buildMatrix(x, { times: true, ages: true });
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Buffer.compare(Buffer.from(new Float64Array(a)), Buffer.from(new Float64Array(b))) === 0;
    expect(same(built.matrix.indices, plain.matrix.indices)).toBe(true);
    const times = cellTimes(x, plain.matrix)!;
    expect(same(built.times!, times)).toBe(true);
    expect(plain.matrix.indptr[1]).toBe(head);
    const first = { ...plain.matrix, nRows: 1 };
    expect(Array.from(built.ages!.subarray(0, head))).toEqual(Array.from(referenceAges(first, times).subarray(0, head)));
    expect(same(built.ages!, entryAges(plain.matrix, times))).toBe(true);
  });
});
