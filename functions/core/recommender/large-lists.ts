// The large-data path's cluster lists (large.ts step 3): one clustering's labels → fixClusters' moves, each
// cluster's top-L list without and with the held-out movies, and its direction, computed cluster by
// cluster over the members (each cluster's counts in one reused column-sized array, so the members'
// movies are summed in cache; no cluster × movie table).
import { FixReport } from '../cluster-lists';
import { CsrMatrix } from '../types';
import type { ListCols } from './cl-ease';
import type { CentreTable } from './passes';

/** Rows grouped by label (ascending row within a label): members of label j are order[start[j] .. start[j+1]). */
function groupByLabel(labels: Int32Array, k: number): { order: Int32Array; start: Int32Array } {
  const start = new Int32Array(k + 1);
  for (let r = 0; r < labels.length; r++) start[labels[r] + 1]++;
  for (let j = 0; j < k; j++) start[j + 1] += start[j];
  const fill = start.slice(0, k);
  const order = new Int32Array(labels.length);
  for (let r = 0; r < labels.length; r++) order[fill[labels[r]]++] = r;
  return { order, start };
}

/**
 * One clustering, cluster by cluster (each cluster's counts and direction in one reused column-sized array,
 * so the members' movies are summed in cache): fixClusters' moves, then each live cluster's top-L list
 * without the held-out movies (for validation and the check) and with them (the model's), its direction
 * (the normalised sum of its members' unit rows, held-out movies left out) written into `table`, and, when
 * asked, users per movie without the held-out movies (most-popular's counts).
 *
 * fixClusters on this scale: clusters with fewer than minClusterSize members (but some) are dissolved in
 * ascending id; each member (ascending) moves to the remaining cluster whose original list holds the largest
 * share of its movies (ties: the lowest id), as the seed's rule; the moved users' movies then count in
 * their new cluster like every member's (the seed appends a moved user's missing movies with count 1).
 */
export function clusterLists(
  x: CsrMatrix,
  skip: Uint8Array,
  labels: Int32Array,
  k: number,
  idOffset: number,
  minClusterSize: number,
  L: number,
  table: CentreTable,
  popularity: Int32Array | null,
): { fit: ListCols[]; final: ListCols[]; sizes: number[]; fix: FixReport } {
  const d = x.nCols;
  const sizes = new Array<number>(k).fill(0);
  for (let r = 0; r < x.nRows; r++) sizes[labels[r]]++;
  const fix = fixLarge(x, skip, labels, sizes, k, idOffset, minClusterSize);
  const { order, start } = groupByLabel(labels, k);
  const counts = new Int32Array(d);
  const dir = new Float64Array(d);
  const touched = new Int32Array(d);
  const fit: ListCols[] = [];
  const final: ListCols[] = [];
  for (let j = 0; j < k; j++) {
    if (start[j + 1] === start[j]) continue;
    let nt = 0;
    for (let q = start[j]; q < start[j + 1]; q++) {
      const r = order[q];
      let n = 0;
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) n++;
      const v = n > 0 ? 1 / Math.sqrt(n) : 0;
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        if (skip[p]) continue;
        const c = x.indices[p];
        if (counts[c]++ === 0) touched[nt++] = c;
        dir[c] += v;
      }
    }
    const id = idOffset + j;
    fit.push({ id, size: sizes[j], ...topL(counts, touched, nt, L) });
    let ss = 0;
    for (let t = 0; t < nt; t++) ss += dir[touched[t]] ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let t = 0; t < nt; t++) {
      const c = touched[t];
      table.set(id, c, dir[c] * inv);
      dir[c] = 0;
      if (popularity) popularity[c] += counts[c];
    }
    for (let q = start[j]; q < start[j + 1]; q++) {
      const r = order[q];
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        if (!skip[p]) continue;
        const c = x.indices[p];
        if (counts[c]++ === 0) touched[nt++] = c;
      }
    }
    final.push({ id, size: sizes[j], ...topL(counts, touched, nt, L) });
    for (let t = 0; t < nt; t++) counts[touched[t]] = 0;
  }
  return { fit, final, sizes, fix };
}

/** The top L of `counts` over its `nt` touched columns: count desc, then column (= movieId) asc. */
function topL(counts: Int32Array, touched: Int32Array, nt: number, L: number): { cols: Int32Array; counts: Float64Array } {
  let max = 0;
  for (let t = 0; t < nt; t++) if (counts[touched[t]] > max) max = counts[touched[t]];
  // the L-th largest count, from a histogram walked from the top
  const hist = new Int32Array(max + 1);
  for (let t = 0; t < nt; t++) hist[counts[touched[t]]]++;
  let threshold = 1;
  let above = 0;
  for (let v = max; v >= 1; v--) {
    if (above + hist[v] >= L) {
      threshold = v;
      break;
    }
    above += hist[v];
  }
  const over: number[] = [];
  const at: number[] = [];
  for (let t = 0; t < nt; t++) {
    const c = touched[t];
    if (counts[c] > threshold) over.push(c);
    else if (counts[c] === threshold) at.push(c);
  }
  at.sort((a, b) => a - b);
  const cols = over.concat(at.slice(0, Math.max(0, L - over.length)));
  cols.sort((a, b) => counts[b] - counts[a] || a - b);
  return { cols: Int32Array.from(cols), counts: Float64Array.from(cols, (c) => counts[c]) };
}

/**
 * fixClusters' decision on one clustering (see clusterLists): moves the members of small clusters by
 * relabelling them and updates `sizes` (0 for a dissolved cluster). The original lists' presence is
 * counted only when there is something to dissolve.
 */
function fixLarge(
  x: CsrMatrix,
  skip: Uint8Array,
  labels: Int32Array,
  sizes: number[],
  k: number,
  idOffset: number,
  minClusterSize: number,
): FixReport {
  const d = x.nCols;
  const sizesBefore: Record<number, number> = {};
  for (let j = 0; j < k; j++) if (sizes[j] > 0) sizesBefore[idOffset + j] = sizes[j];
  const small: number[] = [];
  const keep: number[] = [];
  for (let j = 0; j < k; j++) {
    if (sizes[j] === 0) continue;
    (sizes[j] < minClusterSize ? small : keep).push(j);
  }
  const report: FixReport = { minClusterSize, sizesBefore, sizesAfter: { ...sizesBefore }, dissolved: [], moves: [] };
  if (small.length === 0 || keep.length === 0) return report;
  // which movies each remaining cluster's original list holds
  const slot = new Int32Array(k).fill(-1);
  keep.forEach((j, t) => (slot[j] = t));
  const present = new Uint8Array(keep.length * d);
  for (let r = 0; r < x.nRows; r++) {
    const t = slot[labels[r]];
    if (t < 0) continue;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) present[t * d + x.indices[p]] = 1;
  }
  const moved: Array<[number, number]> = [];
  for (const j of small) {
    for (let r = 0; r < x.nRows; r++) {
      if (labels[r] !== j) continue;
      let n = 0;
      const hits = new Array<number>(keep.length).fill(0);
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        if (skip[p]) continue;
        n++;
        for (let t = 0; t < keep.length; t++) hits[t] += present[t * d + x.indices[p]];
      }
      let bestT = 0;
      let bestShare = -1;
      for (let t = 0; t < keep.length; t++) {
        const share = n ? hits[t] / n : 0;
        if (share > bestShare) {
          bestShare = share;
          bestT = t;
        }
      }
      moved.push([r, keep[bestT]]);
      report.moves.push({ userId: x.rowIds[r], from: idOffset + j, to: idOffset + keep[bestT], share: bestShare });
    }
    report.dissolved.push(idOffset + j);
  }
  for (const [r, to] of moved) {
    labels[r] = to;
    sizes[to]++;
  }
  for (const j of small) sizes[j] = 0;
  report.sizesAfter = {};
  for (let j = 0; j < k; j++) if (sizes[j] > 0) report.sizesAfter[idOffset + j] = sizes[j];
  return report;
}

