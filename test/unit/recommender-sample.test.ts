// The publish gate's user sample on large data: seeded, ascending, rows and timestamps carried intact.
import { sampleUsers } from '../../functions/core/recommender/check';
import { csrFromLists } from '../support/csr';

const lists: Record<number, number[]> = {};
for (let u = 1; u <= 50; u++) lists[u * 10] = [u, u + 1, u + 2].map((m) => m % 20);
const x = csrFromLists(lists);
// a timestamp per entry that encodes (row, position) so misalignment would show
const times = Float64Array.from({ length: x.indptr[x.nRows] }, (_, p) => p * 1000 + 7);

describe('sampleUsers', () => {
  it('returns the matrix itself when it is small enough', () => {
    const s = sampleUsers(x, times, 50, 0);
    expect(s.x).toBe(x);
    expect(s.times).toBe(times);
  });

  it('draws the same ascending users for the same seed, with their rows and timestamps', () => {
    const a = sampleUsers(x, times, 12, 3);
    const b = sampleUsers(x, times, 12, 3);
    expect(Array.from(a.x.rowIds)).toEqual(Array.from(b.x.rowIds));
    expect(a.x.nRows).toBe(12);
    const ids = Array.from(a.x.rowIds);
    expect(ids).toEqual([...ids].sort((p, q) => p - q));
    expect(new Set(ids).size).toBe(12);
    for (let i = 0; i < a.x.nRows; i++) {
      const r = ids[i] / 10 - 1; // original row of this user
      const orig = Array.from(x.indices.subarray(x.indptr[r], x.indptr[r + 1]));
      const got = Array.from(a.x.indices.subarray(a.x.indptr[i], a.x.indptr[i + 1]));
      expect(got).toEqual(orig);
      expect(Array.from(a.times!.subarray(a.x.indptr[i], a.x.indptr[i + 1]))).toEqual(
        Array.from(times.subarray(x.indptr[r], x.indptr[r + 1])),
      );
    }
    expect(Array.from(sampleUsers(x, times, 12, 4).x.rowIds)).not.toEqual(ids);
  });
});
