// The model file is written in pieces (bin/cli/util.ts jsonChunks) so a 25M-entry array never becomes one
// string: the pieces joined must be exactly JSON.stringify's text, including arrays longer than one piece.
import { jsonChunks } from '../../bin/cli/util';

describe('jsonChunks', () => {
  it('joins to JSON.stringify of nested data with long arrays, undefined fields and non-Latin-1 text', () => {
    const long = Array.from({ length: 150_000 }, (_, i) => (i % 7 === 0 ? -i : i * 0.5));
    const value = {
      kind: 'movierec-model',
      note: 'NDCG ≥ 0.13',
      skipped: undefined,
      users: { ids: long, empty: [], nested: [{ a: 1, b: [null, true, 'x'] }] },
      exact: Array.from({ length: 65_536 }, (_, i) => i),
    };
    const pieces = [...jsonChunks(value)];
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join('')).toBe(JSON.stringify(value));
  });

  it('writes scalars and top-level long arrays as JSON.stringify does', () => {
    for (const v of [null, 3, 'a"b', true, Array.from({ length: 70_000 }, (_, i) => String(i))]) {
      expect([...jsonChunks(v)].join('')).toBe(JSON.stringify(v));
    }
  });
});
