// FixClusters folds the partitions' per-cluster counts one partition at a time (mergeClusterParts) instead of
// holding every partition's: the fixed clustering must be the one fixClustering computes from all the parts —
// the same lists, the same moves and bit-identical centre directions — whatever the partitions hold.
import fc from 'fast-check';
import { countPartition, fixClustering, mergeClusterParts } from '../../functions/core/distributed/post';
import { unitValues } from '../../functions/core/distributed/shards';
import type { CsrMatrix } from '../../functions/core/types';

/** A random binary matrix cut into consecutive partitions, with labels. */
const setup = fc
  .record({
    d: fc.integer({ min: 2, max: 12 }),
    k: fc.integer({ min: 1, max: 5 }),
    rows: fc.array(fc.tuple(fc.uniqueArray(fc.nat(11), { minLength: 1, maxLength: 8 }), fc.nat(4)), { minLength: 1, maxLength: 40 }),
    cuts: fc.array(fc.nat(40), { maxLength: 5 }),
    minClusterSize: fc.integer({ min: 0, max: 6 }),
  })
  .map(({ d, k, rows, cuts, minClusterSize }) => {
    const cleaned = rows.map(([cols, label]) => ({ cols: [...new Set(cols.map((c) => c % d))].sort((a, b) => a - b), label: label % k }));
    const bounds = [...new Set([0, ...cuts.map((c) => c % cleaned.length), cleaned.length])].sort((a, b) => a - b);
    return { d, k, rows: cleaned, bounds, minClusterSize };
  });

function partition(rows: Array<{ cols: number[] }>, from: number, to: number, d: number): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  for (let r = from; r < to; r++) {
    indices.push(...rows[r].cols);
    indptr.push(indices.length);
  }
  return { nRows: to - from, nCols: d, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), values: null, rowIds: Float64Array.from({ length: to - from }, (_, i) => 1000 + from + i), colIds: new Float64Array(0) };
}

test('folding the partitions in order gives fixClustering what all the parts give it', () => {
  fc.assert(
    fc.property(setup, ({ d, k, rows, bounds, minClusterSize }) => {
      const colIds = Float64Array.from({ length: d }, (_, j) => 10 * j + 7);
      const parts = [];
      for (let b = 0; b + 1 < bounds.length; b++) {
        const x = partition(rows, bounds[b], bounds[b + 1], d);
        const labels = rows.slice(bounds[b], bounds[b + 1]).map((r) => r.label);
        parts.push(countPartition(x, labels, k, { rowStart: bounds[b], minClusterSize, unit: unitValues(x) }));
      }
      const unitOf = (cols: readonly number[]) => new Float64Array(cols.length).fill(1 / Math.sqrt(cols.length));
      const opts = { idOffset: 3, minClusterSize, unitOf };
      const all = fixClustering(parts, k, colIds, opts);
      const folded = fixClustering([parts.reduce((a, b) => mergeClusterParts(a, b))], k, colIds, opts);
      expect(folded.clusters).toEqual(all.clusters);
      expect(folded.report).toEqual(all.report);
      expect([...folded.moved]).toEqual([...all.moved]);
      expect(folded.centre).toEqual(all.centre);
    }),
    { numRuns: 300 },
  );
});
