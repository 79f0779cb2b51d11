import fc from 'fast-check';
import { buildMatrix, fillReport, movieCounts, rowOf, window } from '../../functions/core/matrix';
import type { DataReport, Interactions } from '../../functions/core/types';

/** Interactions from raw (userId, movieId) pairs, dense indices in first-appearance order. */
function interactions(rows: Array<[number, number]>): Interactions {
  const userIds: number[] = [];
  const movieIds: number[] = [];
  const ui = new Map<number, number>();
  const mi = new Map<number, number>();
  const users = new Int32Array(rows.length);
  const movies = new Int32Array(rows.length);
  rows.forEach(([u, m], k) => {
    if (!ui.has(u)) ui.set(u, userIds.push(u) - 1);
    if (!mi.has(m)) mi.set(m, movieIds.push(m) - 1);
    users[k] = ui.get(u)!;
    movies[k] = mi.get(m)!;
  });
  return { userIds, movieIds, users, movies, length: rows.length };
}

describe('buildMatrix', () => {
  // users 3,1,2 and movies 10,5,7,1 in first-appearance order; (3,10) appears twice.
  const x = interactions([[3, 10], [1, 5], [3, 10], [2, 7], [1, 7], [3, 1]]);
  const { matrix: m, duplicatesCollapsed } = buildMatrix(x);

  test('worked example: rows by ascending user id, sorted unique columns, duplicates counted', () => {
    expect(m.nRows).toBe(3);
    expect(m.nCols).toBe(4);
    expect(Array.from(m.rowIds)).toEqual([1, 2, 3]);
    expect(Array.from(m.colIds)).toEqual([1, 5, 7, 10]);
    // user 1: movies 5,7 → cols 1,2; user 2: movie 7 → col 2; user 3: movies 1,10 → cols 0,3
    expect(Array.from(m.indptr)).toEqual([0, 2, 3, 5]);
    expect(Array.from(m.indices)).toEqual([1, 2, 2, 0, 3]);
    expect(m.values).toBeNull();
    expect(duplicatesCollapsed).toBe(1);
  });

  test('rowOf gives a user movie ids ascending, null for an unknown user', () => {
    expect(rowOf(m, 3)).toEqual([1, 10]);
    expect(rowOf(m, 1)).toEqual([5, 7]);
    expect(rowOf(m, 4)).toBeNull();
  });

  test('window: first users × first movies, or chosen ids (unknown ones are zeros)', () => {
    expect(window(m, 2, 3)).toEqual({ userIds: [1, 2], movieIds: [1, 5, 7], rows: [[0, 1, 1], [0, 0, 1]] });
    expect(window(m, [3, 99], [10, 10, 42])).toEqual({ userIds: [3, 99], movieIds: [10, 10, 42], rows: [[1, 1, 0], [0, 0, 0]] });
    expect(window(m, 100, 0)).toEqual({ userIds: [1, 2, 3], movieIds: [], rows: [[], [], []] });
  });

  test('movieCounts: users per movie, indexed like colIds', () => {
    expect(Array.from(movieCounts(m))).toEqual([1, 1, 2, 1]);
  });

  test('fillReport adds the shape to a reader report', () => {
    const report: DataReport = { format: 'csv', gzip: false, bytes: 1, rowsRead: 6, rowsAccepted: 6, rowsRejected: 0, rejectedByReason: {}, examples: [] };
    fillReport(report, m, duplicatesCollapsed);
    expect(report).toMatchObject({ users: 3, movies: 4, interactions: 5, duplicatesCollapsed: 1 });
  });

  test('empty interactions give an empty matrix', () => {
    const e = buildMatrix(interactions([]));
    expect(e.matrix).toMatchObject({ nRows: 0, nCols: 0 });
    expect(Array.from(e.matrix.indptr)).toEqual([0]);
    expect(e.duplicatesCollapsed).toBe(0);
  });

  test('matches a naive set-of-pairs construction on random data', () => {
    const pair = fc.tuple(fc.oneof(fc.nat(20), fc.nat()), fc.oneof(fc.nat(30), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 200 }), (rows) => {
        const { matrix, duplicatesCollapsed: d } = buildMatrix(interactions(rows));
        const unique = new Map<string, [number, number]>();
        for (const [u, mv] of rows) unique.set(`${u}/${mv}`, [u, mv]);
        const byUser = new Map<number, number[]>();
        for (const [u, mv] of unique.values()) byUser.set(u, [...(byUser.get(u) ?? []), mv]);
        const users = [...byUser.keys()].sort((a, b) => a - b);
        expect(Array.from(matrix.rowIds)).toEqual(users);
        expect(Array.from(matrix.colIds)).toEqual([...new Set(rows.map((r) => r[1]))].sort((a, b) => a - b));
        for (const u of users) expect(rowOf(matrix, u)).toEqual(byUser.get(u)!.sort((a, b) => a - b));
        expect(d).toBe(rows.length - unique.size);
        expect(matrix.indices.length).toBe(unique.size);
      }),
      { numRuns: 300 },
    );
  });

  test('huge id ranges need no dense array: 200k users × 200k movies, 400k entries', () => {
    const n = 400_000;
    const users = new Int32Array(n);
    const movies = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      users[k] = k % 200_000;
      movies[k] = (k * 7919) % 200_000;
    }
    const ids = Array.from({ length: 200_000 }, (_, i) => 1e9 + 200_000 - i); // descending raw ids
    const { matrix, duplicatesCollapsed } = buildMatrix({ userIds: ids, movieIds: ids, users, movies, length: n });
    expect(matrix.nRows).toBe(200_000);
    expect(matrix.nCols).toBe(200_000);
    // k and k + 200k share the user and (k·7919 mod 200k) the movie: every pair appears twice
    expect(duplicatesCollapsed).toBe(200_000);
    expect(matrix.indices.length).toBe(200_000);
    for (let r = 0; r < matrix.nRows; r++) {
      for (let p = matrix.indptr[r] + 1; p < matrix.indptr[r + 1]; p++) expect(matrix.indices[p] > matrix.indices[p - 1]).toBe(true);
    }
  });
});
