// Top-n lists for many users at once (the hold-out check, evaluation): the same scores, order and
// exclusions as recommendFor.
//
// A CL-EASE model (the default) is scored by personal.ts' scoreUser itself, on column indices instead of
// movie ids (columns ascend with movieId, so the ranking is the same) — the one scoring function serving
// uses, with the same numbers in the same order.
// An older taste model (no local matrices) is summed over the user's lists in mix order, one `f · count`
// at a time, exactly as mergeWeightedLists does, with a dense accumulator instead of a Map and a bounded
// insertion buffer instead of a full sort.
import { ClusterModel } from '../model';
import { CsrMatrix } from '../types';
import { columnIndex, columnMixList } from './cl-ease';
import { MixList, scoreUser } from './personal';

export interface ColList {
  /** columns of the list's movies that exist in the matrix, in list order */
  cols: Int32Array;
  counts: Float64Array;
  size: number;
}

/** The model's cluster lists on the column indices of `x` (cluster id → list); selection computes
 * them once per clustering and scores many mixes with them. */
export function columnLists(model: Pick<ClusterModel, 'clusters'>, x: CsrMatrix): Map<number, ColList> {
  const colOf = new Map<number, number>();
  for (let c = 0; c < x.nCols; c++) colOf.set(x.colIds[c], c);
  const lists = new Map<number, ColList>();
  for (const cl of model.clusters) {
    const cols: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < cl.movieIds.length; i++) {
      const c = colOf.get(cl.movieIds[i]);
      if (c === undefined) continue;
      cols.push(c);
      counts.push(cl.counts[i]);
    }
    lists.set(cl.id, { cols: Int32Array.from(cols), counts: Float64Array.from(counts), size: cl.size });
  }
  return lists;
}

/**
 * Top-n movie ids for each of `rows` (rows of `x`, the matrix the model was trained on; its row
 * order is the model's user order). Returns userId → movie ids. Equivalent to
 * recommendFor(model, userId, { n }) for a taste model. `lists`: columnLists(model, x), when the
 * caller already has them (they must be of this model's current lists).
 */
export function topNForRows(
  model: ClusterModel,
  x: CsrMatrix,
  rows: readonly number[],
  n: number,
  lists: Map<number, ColList> = columnLists(model, x),
): Map<number, number[]> {
  const mix = model.mix;
  if (!mix) throw new Error('topNForRows needs a taste model (with users.mix)');
  if (model.scoring) return clEaseTopN(model, x, rows, n);
  const acc = new Float64Array(x.nCols);
  const hit = new Uint8Array(x.nCols);
  const seen = new Uint8Array(x.nCols);
  const touched = new Int32Array(x.nCols);
  const out = new Map<number, number[]>();
  const bestCol = new Int32Array(n);
  const bestScore = new Float64Array(n);
  for (const r of rows) {
    let nt = 0;
    for (let q = mix.ptr[r]; q < mix.ptr[r + 1]; q++) {
      const l = lists.get(mix.clusters[q])!;
      const w = mix.weights[q];
      if (!(l.size > 0) || !(w > 0)) continue;
      const f = w / l.size;
      const cols = l.cols;
      const counts = l.counts;
      // seen movies are summed too (no branch in the hot loop) and skipped when ranking
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i];
        const v = acc[c];
        // a movie's first touch leaves acc > 0 (count ≥ 1, f > 0): `hit` is read only while acc is 0
        if (v === 0 && !hit[c]) {
          hit[c] = 1;
          touched[nt++] = c;
        }
        acc[c] = v + f * counts[i];
      }
    }
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) seen[x.indices[p]] = 1;
    // bounded insertion: score desc, column (= movieId) asc
    let len = 0;
    for (let t = 0; t < nt; t++) {
      const c = touched[t];
      const s = acc[c];
      acc[c] = 0;
      hit[c] = 0;
      if (seen[c]) continue;
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
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) seen[x.indices[p]] = 0;
  }
  return out;
}

/** The CL-EASE model's top n for rows of the matrix it was trained on (its users, in its row order). */
function clEaseTopN(model: ClusterModel, x: CsrMatrix, rows: readonly number[], n: number): Map<number, number[]> {
  const mix = model.mix!;
  const scoring = model.scoring!;
  const colOf = columnIndex(x);
  const byId = new Map(model.clusters.map((c) => [c.id, columnMixList(c, colOf)]));
  const mark = new Uint8Array(x.nCols);
  const seen = { has: (c: number) => mark[c] === 1 };
  const out = new Map<number, number[]>();
  for (const r of rows) {
    if (model.userIds[r] !== x.rowIds[r]) throw new Error(`topNForRows: row ${r} of the matrix is not the model's user ${model.userIds[r]}`);
    const lists: MixList[] = [];
    for (let q = mix.ptr[r]; q < mix.ptr[r + 1]; q++) lists.push({ ...byId.get(mix.clusters[q])!, weight: mix.weights[q] });
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    let history: ArrayLike<number>;
    if (scoring.halfLife > 0 && model.recent) {
      const { ptr, movies } = model.recent;
      history = Array.from(movies.slice(ptr[r], ptr[r + 1]), (m) => colOf.get(m)!);
    } else {
      history = x.indices.subarray(a, b);
    }
    for (let p = a; p < b; p++) mark[x.indices[p]] = 1;
    const items = scoreUser(lists, history, seen, scoring, n);
    for (let p = a; p < b; p++) mark[x.indices[p]] = 0;
    out.set(x.rowIds[r], items.map((it) => x.colIds[it.movieId]));
  }
  return out;
}
