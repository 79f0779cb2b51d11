// Test-only: a CSR matrix from a small { userId: [movieIds] } literal, built the obvious way
// (independent of functions/core/matrix.ts, so model tests do not rest on the code they check).
import { CsrMatrix } from '../../functions/core/types';

export function csrFromLists(lists: Record<number, number[]>): CsrMatrix {
  const userIds = Object.keys(lists).map(Number).sort((a, b) => a - b);
  const movieIds = [...new Set(Object.values(lists).flat())].sort((a, b) => a - b);
  const col = new Map(movieIds.map((m, i) => [m, i]));
  const indptr = [0];
  const indices: number[] = [];
  for (const u of userIds) {
    const cols = [...new Set(lists[u])].map((m) => col.get(m)!).sort((a, b) => a - b);
    indices.push(...cols);
    indptr.push(indices.length);
  }
  return {
    nRows: userIds.length,
    nCols: movieIds.length,
    indptr: Int32Array.from(indptr),
    indices: Int32Array.from(indices),
    values: null,
    rowIds: Float64Array.from(userIds),
    colIds: Float64Array.from(movieIds),
  };
}
