// From a clustering to ranked cluster lists, as the seed project does it: per-cluster movie counts, fixClusters
// (small clusters dissolved, their users moved by the placement rule), the global popular list, and the seed
// algorithm's model built from them. The taste model counts and fixes its clusterings with the same functions.
import { placeUser, type ClusterList, type ClusterModel } from './model';
import { rankPairs, type RankedList } from './ranked';
import { CsrMatrix } from './types';

export interface MoveRecord {
  userId: number;
  from: number;
  to: number;
  /** share of the user's movies in the destination's original list (before any move) */
  share: number;
}

export interface FixReport {
  minClusterSize: number;
  sizesBefore: Record<number, number>;
  sizesAfter: Record<number, number>;
  dissolved: number[];
  moves: MoveRecord[];
}

/** Column sums of a binary matrix as a ranked list (movies nobody has are omitted). */
export function popularList(x: CsrMatrix): RankedList {
  const counts = new Int32Array(x.nCols);
  for (let p = 0; p < x.indptr[x.nRows]; p++) counts[x.indices[p]]++;
  const ids: number[] = [];
  const cs: number[] = [];
  for (let c = 0; c < x.nCols; c++) {
    if (counts[c] > 0) {
      ids.push(x.colIds[c]);
      cs.push(counts[c]);
    }
  }
  return rankPairs(ids, cs);
}

/** Per-cluster movie counts (how many of the cluster's users have each movie), each list ranked.
 * O(nnz + k·nCols) with one reused counter array. */
export function clusterCounts(x: CsrMatrix, labels: ArrayLike<number>): ClusterList[] {
  if (labels.length !== x.nRows) {
    throw new Error(`clusterCounts: ${labels.length} labels for ${x.nRows} users`);
  }
  const members = new Map<number, number[]>();
  for (let r = 0; r < x.nRows; r++) {
    const c = labels[r];
    let m = members.get(c);
    if (!m) members.set(c, (m = []));
    m.push(r);
  }
  const counter = new Int32Array(x.nCols);
  const out: ClusterList[] = [];
  for (const id of [...members.keys()].sort((a, b) => a - b)) {
    const rows = members.get(id)!;
    const touched: number[] = [];
    for (const r of rows) {
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        const c = x.indices[p];
        if (counter[c]++ === 0) touched.push(c);
      }
    }
    const ranked = rankPairs(
      touched.map((c) => x.colIds[c]),
      touched.map((c) => counter[c]),
    );
    for (const c of touched) counter[c] = 0;
    out.push({ id, size: rows.length, ...ranked });
  }
  return out;
}

/**
 * The seed's fixClusters. Clusters with fewer than `minClusterSize` users are dissolved, in ascending
 * cluster id; each of their users, in ascending user id, moves to the REMAINING cluster whose ORIGINAL
 * movie list (as counted before any move) holds the largest share of the user's movies (ties → lowest
 * cluster id). As in the seed, the shares of every user are measured against those original lists: movies
 * appended for earlier users do not count for later ones. The user's movies missing from the destination
 * list are appended at its end with count 1 (ascending movieId); counts already in the list are not
 * changed. One deliberate difference: a movie is appended to a list at most once. The seed appends it
 * again for every moved user who has it, so its lists can recommend a movie twice; with the repeats
 * removed they are these lists. If no cluster is large enough, nothing is dissolved.
 */
export function fixClusters(
  clusters: ClusterList[],
  labels: Int32Array | number[],
  userIds: ArrayLike<number>,
  moviesOf: (row: number) => ArrayLike<number>,
  minClusterSize: number,
): { clusters: ClusterList[]; labels: number[]; report: FixReport } {
  const small = new Set(clusters.filter((c) => c.size < minClusterSize).map((c) => c.id));
  // users of each dissolved cluster, ascending user id (rows are in ascending user id already)
  const members = new Map<number, number[]>();
  for (let r = 0; r < labels.length; r++) {
    if (!small.has(labels[r])) continue;
    let list = members.get(labels[r]);
    if (!list) members.set(labels[r], (list = []));
    list.push(r);
  }
  const fixed = fixClusterLists(clusters, (id) => members.get(id) ?? [], userIds, moviesOf, minClusterSize);
  const newLabels = Array.from(labels);
  for (const m of fixed.moved) newLabels[m.row] = m.to;
  return { clusters: fixed.clusters, labels: newLabels, report: fixed.report };
}

/**
 * fixClusters on the lists and the dissolved clusters' members only (`membersOf(id)`: its rows, ascending):
 * what a distributed training, which never holds every label in one place, runs. Returns the fixed lists,
 * the report and each moved row's destination.
 */
export function fixClusterLists(
  clusters: ClusterList[],
  membersOf: (clusterId: number) => readonly number[],
  userIds: { [row: number]: number } | ArrayLike<number>,
  moviesOf: (row: number) => ArrayLike<number>,
  minClusterSize: number,
): { clusters: ClusterList[]; moved: Array<{ row: number; to: number }>; report: FixReport } {
  const sizesBefore: Record<number, number> = {};
  for (const c of clusters) sizesBefore[c.id] = c.size;
  const small = clusters.filter((c) => c.size < minClusterSize).map((c) => c.id);
  const keep = clusters.filter((c) => c.size >= minClusterSize);
  const report: FixReport = { minClusterSize, sizesBefore, sizesAfter: { ...sizesBefore }, dissolved: [], moves: [] };
  const moved: Array<{ row: number; to: number }> = [];
  if (keep.length === 0 || small.length === 0) return { clusters, moved, report };

  const lists = keep.map((c) => ({ ...c, movieIds: [...c.movieIds], counts: [...c.counts] }));
  // shares are measured against the lists as they were before any move (the seed's
  // each_cluster_movies_list); `present` also holds the appended movies, so each is appended once
  const original = keep.map((c) => new Set(c.movieIds));
  const present = keep.map((c) => new Set(c.movieIds));
  for (const id of small) {
    for (const r of membersOf(id)) {
      const movies = Array.from(moviesOf(r)).sort((a, b) => a - b);
      const { index: best, share: bestShare } = placeUser(original, movies);
      const dest = lists[best];
      for (const m of movies) {
        if (!present[best].has(m)) {
          dest.movieIds.push(m);
          dest.counts.push(1);
          present[best].add(m);
        }
      }
      dest.size++;
      moved.push({ row: r, to: dest.id });
      report.moves.push({ userId: (userIds as ArrayLike<number>)[r], from: id, to: dest.id, share: bestShare });
    }
    report.dissolved.push(id);
  }
  report.sizesAfter = {};
  for (const c of lists) report.sizesAfter[c.id] = c.size;
  return { clusters: lists, moved, report };
}

export function buildSeedModel(
  x: CsrMatrix,
  labels: ArrayLike<number>,
  minClusterSize: number,
): { model: ClusterModel; fix: FixReport } {
  const counted = clusterCounts(x, labels);
  const moviesOf = (r: number) => {
    const out: number[] = [];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) out.push(x.colIds[x.indices[p]]);
    return out;
  };
  const fixed = fixClusters(counted, Array.from(labels), x.rowIds, moviesOf, minClusterSize);
  // filled from int32 ids when they all are: small integers (from the Float64Array of ids it was an array of
  // doubles, slower to fill and to write as JSON); presized, since growing it by push peaks at 1.7× its size
  const colIds = int32Ids(x.colIds);
  const userMovies: number[] = new Array(x.indptr[x.nRows]);
  for (let p = 0; p < userMovies.length; p++) userMovies[p] = colIds[x.indices[p]];
  const model: ClusterModel = {
    userIds: Array.from(int32Ids(x.rowIds)),
    userCluster: fixed.labels,
    userMoviePtr: Array.from(x.indptr),
    userMovies,
    clusters: fixed.clusters,
    popular: popularList(x),
  };
  return { model, fix: fixed.report };
}

/** The ids as an Int32Array when every one fits (the same values), else the ids themselves. */
function int32Ids(ids: Float64Array): Int32Array | Float64Array {
  for (let i = 0; i < ids.length; i++) if ((ids[i] | 0) !== ids[i]) return ids;
  return Int32Array.from(ids);
}
