// From distributed clusterings to the servable model's parts, with today's single-function rules:
// per-cluster movie counts (clusterCounts), fixClusters, the taste model's centre directions
// (prepareClustering) and each user's mix (nearestClusters, mixFromNearest). Each partition counts its own
// users; the reducer merges the counts into ranked lists, dissolves the small clusters (their members come
// from the partitions) and, for the taste model, turns the per-cluster unit-row sums into directions.
import { fixClusterLists, type FixReport } from '../cluster-lists';
import type { ClusterList, UserMix } from '../model';
import { rankPairs } from '../ranked';
import { mixFromNearest, nearestClusters, type Nearest, type TasteClustering } from '../recommender/taste';
import type { CsrMatrix } from '../types';

/** One partition's view of one clustering. */
export interface ClusterPart {
  /** per cluster (raw label), users of this partition in it */
  sizes: number[];
  /** per cluster: the movies (global columns, ascending) its users hold and how many of them */
  cols: Int32Array[];
  counts: Int32Array[];
  /** taste only: per cluster, Σ of the members' unit-row values per column (same columns as `cols`) */
  unitSums: Float64Array[] | null;
  /** members of clusters with fewer than minClusterSize users HERE (a superset of the globally small
   * ones' members): global row, raw label, user id, movies (global columns) */
  small: Array<{ row: number; label: number; userId: number; cols: number[] }>;
}

export function countPartition(
  x: CsrMatrix,
  labels: ArrayLike<number>,
  k: number,
  opts: { rowStart: number; minClusterSize: number; unit: Float64Array | null },
): ClusterPart {
  const d = x.nCols;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let r = 0; r < x.nRows; r++) members[labels[r]].push(r);
  const counter = new Int32Array(d);
  const sum = opts.unit ? new Float64Array(d) : null;
  const part: ClusterPart = { sizes: members.map((m) => m.length), cols: [], counts: [], unitSums: opts.unit ? [] : null, small: [] };
  for (let c = 0; c < k; c++) {
    const touched: number[] = [];
    for (const r of members[c]) {
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        const j = x.indices[p];
        if (counter[j]++ === 0) touched.push(j);
        if (sum) sum[j] += opts.unit![p];
      }
    }
    touched.sort((a, b) => a - b);
    part.cols.push(Int32Array.from(touched));
    part.counts.push(Int32Array.from(touched, (j) => counter[j]));
    if (sum) part.unitSums!.push(Float64Array.from(touched, (j) => sum[j]));
    for (const j of touched) {
      counter[j] = 0;
      if (sum) sum[j] = 0;
    }
    if (members[c].length > 0 && members[c].length < opts.minClusterSize) {
      for (const r of members[c]) {
        part.small.push({ row: opts.rowStart + r, label: c, userId: x.rowIds[r], cols: Array.from(x.indices.subarray(x.indptr[r], x.indptr[r + 1])) });
      }
    }
  }
  return part;
}

/**
 * Two consecutive parts (a before b, in partition order) as one: sizes and counts added, each cluster's
 * columns the sorted union, unit sums added, the small clusters' members concatenated. Folding the partitions
 * in order gives fixClustering the same sums in the same order as all the parts would (integers exact, each
 * float cell summed partition by partition), so a reducer holds the running merge and one partition at a
 * time instead of every partition's counts (at 1 B ratings they would not fit one function).
 */
export function mergeClusterParts(a: ClusterPart, b: ClusterPart): ClusterPart {
  const k = Math.max(a.sizes.length, b.sizes.length);
  const out: ClusterPart = {
    sizes: Array.from({ length: k }, (_, c) => (a.sizes[c] ?? 0) + (b.sizes[c] ?? 0)),
    cols: [],
    counts: [],
    unitSums: a.unitSums && b.unitSums ? [] : null,
    small: a.small.concat(b.small),
  };
  for (let c = 0; c < k; c++) {
    const ac = a.cols[c] ?? new Int32Array(0);
    const bc = b.cols[c] ?? new Int32Array(0);
    const cols = new Int32Array(ac.length + bc.length);
    const counts = new Int32Array(cols.length);
    const sums = out.unitSums ? new Float64Array(cols.length) : null;
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < ac.length || j < bc.length) {
      const takeA = j >= bc.length || (i < ac.length && ac[i] <= bc[j]);
      const takeB = i >= ac.length || (j < bc.length && bc[j] <= ac[i]);
      cols[w] = takeA ? ac[i] : bc[j];
      counts[w] = (takeA ? a.counts[c][i] : 0) + (takeB ? b.counts[c][j] : 0);
      if (sums) sums[w] = takeA && takeB ? a.unitSums![c][i] + b.unitSums![c][j] : takeA ? a.unitSums![c][i] : b.unitSums![c][j];
      if (takeA) i++;
      if (takeB) j++;
      w++;
    }
    out.cols.push(cols.slice(0, w));
    out.counts.push(counts.slice(0, w));
    if (sums) out.unitSums!.push(sums.slice(0, w));
  }
  return out;
}

export interface FixedClustering {
  /** the clusters after fixClusters, ascending id (ids offset by idOffset) */
  clusters: ClusterList[];
  report: FixReport;
  /** rows moved by fixClusters: global row → final cluster id */
  moved: Map<number, number>;
  /** raw label → final cluster id for every row not moved (label + idOffset) */
  idOffset: number;
  /** taste: centre directions, movie-major: centre[col * clusters.length + j] */
  centre: Float64Array | null;
}

/**
 * clusterCounts + fixClusters over the partitions' parts (partition order), and for the taste model the
 * centre directions: the mean of the final members' unit rows, scaled to unit length.
 */
export function fixClustering(
  parts: readonly ClusterPart[],
  k: number,
  colIds: Float64Array,
  opts: { idOffset: number; minClusterSize: number; unitOf?: (cols: readonly number[]) => Float64Array },
): FixedClustering {
  const d = colIds.length;
  const sizes = new Array<number>(k).fill(0);
  for (const p of parts) p.sizes.forEach((s, c) => (sizes[c] += s));
  const counted: ClusterList[] = [];
  const counter = new Int32Array(d);
  for (let c = 0; c < k; c++) {
    if (sizes[c] === 0) continue;
    const touched: number[] = [];
    for (const p of parts) {
      const cols = p.cols[c];
      for (let i = 0; i < cols.length; i++) {
        if (counter[cols[i]] === 0) touched.push(cols[i]);
        counter[cols[i]] += p.counts[c][i];
      }
    }
    const ranked = rankPairs(
      touched.map((j) => colIds[j]),
      touched.map((j) => counter[j]),
    );
    for (const j of touched) counter[j] = 0;
    counted.push({ id: c + opts.idOffset, size: sizes[c], ...ranked });
  }
  // the globally small clusters' members, ascending row (partitions are in row order)
  const smallIds = new Set(counted.filter((c) => c.size < opts.minClusterSize).map((c) => c.id));
  const members = new Map<number, number[]>();
  const rowInfo = new Map<number, { userId: number; cols: number[] }>();
  for (const p of parts) {
    for (const s of p.small) {
      const id = s.label + opts.idOffset;
      if (!smallIds.has(id)) continue;
      rowInfo.set(s.row, { userId: s.userId, cols: s.cols });
      let list = members.get(id);
      if (!list) members.set(id, (list = []));
      list.push(s.row);
    }
  }
  for (const list of members.values()) list.sort((a, b) => a - b);
  const userIdOf: Record<number, number> = {};
  for (const [row, info] of rowInfo) userIdOf[row] = info.userId;
  const fixed = fixClusterLists(counted, (id) => members.get(id) ?? [], userIdOf, (row) => rowInfo.get(row)!.cols.map((j) => colIds[j]), opts.minClusterSize);
  const moved = new Map(fixed.moved.map((m) => [m.row, m.to]));
  let centre: Float64Array | null = null;
  if (opts.unitOf) {
    const kc = fixed.clusters.length;
    const slot = new Map<number, number>(fixed.clusters.map((c, j) => [c.id, j]));
    centre = new Float64Array(d * kc);
    for (const p of parts) {
      p.unitSums!.forEach((sums, c) => {
        const j = slot.get(c + opts.idOffset);
        if (j === undefined) return; // dissolved: its members are added below, each where it went
        const cols = p.cols[c];
        for (let i = 0; i < cols.length; i++) centre![cols[i] * kc + j] += sums[i];
      });
    }
    for (const [row, to] of moved) {
      const info = rowInfo.get(row)!;
      const vals = opts.unitOf(info.cols);
      const j = slot.get(to)!;
      info.cols.forEach((col, i) => (centre![col * kc + j] += vals[i]));
    }
    const norm = new Float64Array(kc);
    for (let c = 0; c < d; c++) for (let j = 0; j < kc; j++) norm[j] += centre[c * kc + j] ** 2;
    for (let j = 0; j < kc; j++) norm[j] = norm[j] > 0 ? 1 / Math.sqrt(norm[j]) : 0;
    for (let c = 0; c < d; c++) for (let j = 0; j < kc; j++) centre[c * kc + j] *= norm[j];
  }
  return { clusters: fixed.clusters, report: fixed.report, moved, idOffset: opts.idOffset, centre };
}

/** A partition's final labels of one clustering: raw label + offset, or where fixClusters moved the row. */
export function finalLabels(raw: ArrayLike<number>, rowStart: number, idOffset: number, moved: ReadonlyMap<number, number>): number[] {
  return Array.from({ length: raw.length }, (_, i) => moved.get(rowStart + i) ?? raw[i] + idOffset);
}

/** A partition's users' mixes over the clusterings (taste model): the same functions as the single path. */
export function partitionMix(
  member: CsrMatrix,
  clusterings: ReadonlyArray<{ clusterIds: number[]; centre: Float64Array }>,
  neighbours: number,
  temperature: number,
): UserMix {
  const nears: Nearest[] = clusterings.map((c) => {
    const part = { clusters: c.clusterIds.map((id) => ({ id })), centre: c.centre } as unknown as TasteClustering;
    return nearestClusters(part, member, neighbours);
  });
  return mixFromNearest(nears, member.nRows, temperature);
}
