// The model file is written in chunks; every chunked text must be exactly JSON.stringify's.
import { jsonChunks } from '../../bin/cli/json-stream';
import { toSnapshot } from '../../functions/core/snapshot';
import { SEED_PARAMS } from '../../functions/core/snapshot';

const text = (v: unknown) => [...jsonChunks(v)].join('');

describe('jsonChunks', () => {
  it('writes what JSON.stringify writes for awkward values', () => {
    const values: unknown[] = [
      0,
      -0,
      NaN,
      Infinity,
      1e21,
      5e-324,
      'a "quoted" \u2028 line\n',
      null,
      true,
      [],
      {},
      [undefined, () => 1, Symbol('s'), NaN, null],
      { a: undefined, b: () => 1, c: 1, 2: 'two', 1: 'one', nested: { d: [1, [2, [3]]] } },
      { when: new Date(0), typed: new Int32Array([1, 2]), map: new Map([[1, 2]]) },
      Object.assign(Object.create(null), { x: 1 }),
      [, 1, , 2], // holes
    ];
    for (const v of values) expect(text(v)).toBe(JSON.stringify(v));
    expect(text(undefined)).toBe('');
  });

  it('cuts long arrays (numbers and objects) without changing a byte', () => {
    const numbers = Array.from({ length: 100_003 }, (_, i) => (i % 7 === 0 ? i / 3 : i));
    const objects = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? { i, xs: [i, i + 0.5] } : i));
    const doc = { numbers, objects, tail: [numbers.slice(0, 5)] };
    const chunks = [...jsonChunks(doc)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(JSON.stringify(doc));
  });

  it('writes a model snapshot exactly as JSON.stringify does', () => {
    const n = 50_000;
    const snapshot = toSnapshot(
      {
        userIds: Array.from({ length: n }, (_, i) => i + 1),
        userCluster: Array.from({ length: n }, (_, i) => i % 3),
        userMoviePtr: Array.from({ length: n + 1 }, (_, i) => 2 * i),
        userMovies: Array.from({ length: 2 * n }, (_, i) => 10 + (i % 17)),
        clusters: [0, 1, 2].map((id) => ({ id, size: n / 3, movieIds: [10, 11, 12], counts: [9, 5, 1] })),
        popular: { movieIds: [10, 11], counts: [30, 20] },
      },
      {
        params: SEED_PARAMS,
        data: { format: 'csv', gzip: false, bytes: 1, rowsRead: 1, rowsAccepted: 1, rowsRejected: 0, rejectedByReason: {}, examples: [] },
        training: { inertia: 1.5, iterations: 3, inertias: [1.5], seconds: { cluster: 0.1 }, fix: { minClusterSize: 6, sizesBefore: {}, sizesAfter: {}, dissolved: [], moves: [] } },
        createdAt: '2026-01-01T00:00:00.000Z',
      },
    );
    expect(text(snapshot)).toBe(JSON.stringify(snapshot));
  });
});
