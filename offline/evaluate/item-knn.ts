// Item-kNN over a split, identical in output to quality.py's model_itemknn: the classic non-cluster anchor
// `npm run evaluate` compares the models with.
import { K } from '../../functions/core/evaluate/protocol';
import { columnCounts } from '../../functions/core/evaluate/popular';
import { Recommendations, Recommender } from '../../functions/core/evaluate/score';
import { EvalSplit } from '../../functions/core/evaluate/split';
import { TopK } from './topk';

export interface ItemKnnOptions {
  /** neighbours kept per item (default 50) */
  neighbours?: number;
}

/** The item × item similarity graph: for item i, its neighbours are
 * `indices[indptr[i] .. indptr[i+1]]` with cosine `values[…]`. */
export interface ItemNeighbours {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** Item-kNN, cosine on the binary TRAIN matrix: each item keeps its top-`neighbours` most similar
 * items (self excluded, similarity > 0, ties by movieId asc); score(u, j) = Σ over u's TRAIN items i
 * of sim(i, j) where j is among i's neighbours; u's TRAIN items removed; only score > 0
 * recommended, ties by movieId asc. Sparse: co-occurrences of one item at a time, O(Σ_u n_u²). */
export function itemKnn(opts: ItemKnnOptions = {}): Recommender {
  return async (split, k = K) => itemKnnRecommend(split, itemNeighbours(split, opts.neighbours ?? 50), k);
}

export function itemNeighbours(split: EvalSplit, neighbours = 50): ItemNeighbours {
  const { indptr, indices, nCols, nRows } = split.trainMatrix;
  const counts = columnCounts(split);
  const norms = new Float64Array(nCols);
  for (let c = 0; c < nCols; c++) norms[c] = Math.sqrt(counts[c]);

  // CSC: users of each item, ascending
  const cptr = new Int32Array(nCols + 1);
  for (let p = 0; p < indices.length; p++) cptr[indices[p] + 1]++;
  for (let c = 0; c < nCols; c++) cptr[c + 1] += cptr[c];
  const cfill = cptr.slice(0, nCols);
  const cusers = new Int32Array(indices.length);
  for (let r = 0; r < nRows; r++) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) cusers[cfill[indices[p]]++] = r;
  }

  const co = new Float64Array(nCols);
  const touched = new Int32Array(nCols);
  const top = new TopK(neighbours);
  const outPtr = new Int32Array(nCols + 1);
  let outIdx = new Int32Array(Math.min(nCols * neighbours, 1 << 20));
  let outVal = new Float64Array(outIdx.length);
  let nnz = 0;
  for (let i = 0; i < nCols; i++) {
    let nt = 0;
    for (let q = cptr[i]; q < cptr[i + 1]; q++) {
      const u = cusers[q];
      for (let p = indptr[u]; p < indptr[u + 1]; p++) {
        const j = indices[p];
        if (co[j] === 0) touched[nt++] = j;
        co[j] += 1;
      }
    }
    // similarity, computed exactly as quality.py: co / (sqrt(cnt_i) · sqrt(cnt_j))
    top.reset();
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      co[j] = j === i ? 0 : co[j] / (norms[i] * norms[j]);
      if (co[j] > 0) top.offer(co, j);
    }
    const sel = top.result(co);
    if (nnz + sel.length > outIdx.length) {
      const cap = Math.max(outIdx.length * 2, nnz + sel.length);
      const ni = new Int32Array(cap);
      ni.set(outIdx.subarray(0, nnz));
      const nv = new Float64Array(cap);
      nv.set(outVal.subarray(0, nnz));
      outIdx = ni;
      outVal = nv;
    }
    for (const j of sel) {
      outIdx[nnz] = j;
      outVal[nnz++] = co[j];
    }
    outPtr[i + 1] = nnz;
    for (let t = 0; t < nt; t++) co[touched[t]] = 0;
  }
  return { indptr: outPtr, indices: outIdx.slice(0, nnz), values: outVal.slice(0, nnz) };
}

export function itemKnnRecommend(split: EvalSplit, sim: ItemNeighbours, k: number = K): Recommendations {
  const { indptr, indices, nCols } = split.trainMatrix;
  const score = new Float64Array(nCols);
  const touched = new Int32Array(nCols);
  const mark = new Uint8Array(nCols);
  const top = new TopK(k);
  const recs: Recommendations = new Map();
  for (let r = 0; r < split.userIds.length; r++) {
    let nt = 0;
    // accumulate over the user's items in ascending column order (scipy's csr @ csr order, so
    // floating-point sums, and therefore ties, are bit-identical to quality.py)
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const i = indices[p];
      for (let q = sim.indptr[i]; q < sim.indptr[i + 1]; q++) {
        const j = sim.indices[q];
        if (!mark[j]) {
          mark[j] = 1;
          touched[nt++] = j;
        }
        score[j] += sim.values[q];
      }
    }
    for (let p = indptr[r]; p < indptr[r + 1]; p++) score[indices[p]] = 0;
    top.reset();
    for (let t = 0; t < nt; t++) if (score[touched[t]] > 0) top.offer(score, touched[t]);
    recs.set(
      split.userIds[r],
      top.result(score).map((c) => split.movieIds[c]),
    );
    for (let t = 0; t < nt; t++) {
      score[touched[t]] = 0;
      mark[touched[t]] = 0;
    }
  }
  return recs;
}
