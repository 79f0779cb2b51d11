// Top-n lists for many users at once (validation and the hold-out check): the same scores, order and
// exclusions as recommendFor, computed on column indices with a dense accumulator instead of a Map
// and a bounded insertion buffer instead of a full sort.
import { SeedModel } from '../model';
import { CsrMatrix } from '../types';

interface ColList {
  cols: Int32Array;
  counts: Float64Array;
  size: number;
}

/**
 * Top-n movie ids for each of `rows` (rows of `x`, the matrix the model was trained on; its row
 * order is the model's user order). Returns userId → movie ids. Equivalent to
 * recommendFor(model, userId, { n }) for a taste model.
 */
export function topNForRows(model: SeedModel, x: CsrMatrix, rows: readonly number[], n: number): Map<number, number[]> {
  const mix = model.mix;
  if (!mix) throw new Error('topNForRows needs a taste model (with users.mix)');
  const colOf = new Map<number, number>();
  for (let c = 0; c < x.nCols; c++) colOf.set(x.colIds[c], c);
  const lists = new Map<number, ColList>();
  for (const cl of model.clusters) {
    const cols = new Int32Array(cl.movieIds.length);
    for (let i = 0; i < cols.length; i++) cols[i] = colOf.get(cl.movieIds[i]) ?? -1;
    lists.set(cl.id, { cols, counts: Float64Array.from(cl.counts), size: cl.size });
  }
  const acc = new Float64Array(x.nCols);
  const hit = new Uint8Array(x.nCols);
  const seen = new Uint8Array(x.nCols);
  const touched: number[] = [];
  const out = new Map<number, number[]>();
  const bestCol = new Int32Array(n);
  const bestScore = new Float64Array(n);
  for (const r of rows) {
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) seen[x.indices[p]] = 1;
    for (let q = mix.ptr[r]; q < mix.ptr[r + 1]; q++) {
      const l = lists.get(mix.clusters[q])!;
      const w = mix.weights[q];
      if (!(l.size > 0) || !(w > 0)) continue;
      const f = w / l.size;
      for (let i = 0; i < l.cols.length; i++) {
        const c = l.cols[i];
        if (c < 0 || seen[c]) continue;
        if (!hit[c]) {
          hit[c] = 1;
          touched.push(c);
        }
        acc[c] += f * l.counts[i];
      }
    }
    // bounded insertion: score desc, column (= movieId) asc
    let len = 0;
    for (const c of touched) {
      const s = acc[c];
      if (len === n && !(s > bestScore[n - 1] || (s === bestScore[n - 1] && c < bestCol[n - 1]))) continue;
      let i = len < n ? len++ : n - 1;
      while (i > 0 && (bestScore[i - 1] < s || (bestScore[i - 1] === s && bestCol[i - 1] > c))) {
        bestScore[i] = bestScore[i - 1];
        bestCol[i] = bestCol[i - 1];
        i--;
      }
      bestScore[i] = s;
      bestCol[i] = c;
    }
    const ids: number[] = [];
    for (let i = 0; i < len; i++) ids.push(x.colIds[bestCol[i]]);
    out.set(x.rowIds[r], ids);
    for (const c of touched) {
      acc[c] = 0;
      hit[c] = 0;
    }
    touched.length = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) seen[x.indices[p]] = 0;
  }
  return out;
}
