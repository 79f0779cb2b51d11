// The taste model: E spherical K-means clusterings of the users (unit rows), each cluster a ranked
// movie list exactly like the seed's (counts desc, movieId asc; fixClusters dissolves small ones), and
// per user a soft membership: in each clustering the `neighbours` clusters whose centre direction is
// closest (cosine) to the user's RECENCY-WEIGHTED unit row, weighted softmax(cosine / temperature),
// the clusterings weighted equally.
// A movie's score for a user is Σ weight_c · count_c(movie) / size_c — a handful of list reads.
import { clusterCounts, FixReport, fixClusters, popularList } from '../cluster-lists';
import { ClusterList, ClusterModel, UserMix } from '../model';
import { CsrMatrix } from '../types';

/** One clustering after fixClusters, with the unit centre direction of each final cluster. */
export interface TasteClustering {
  /** final clusters, ascending id */
  clusters: ClusterList[];
  /** final cluster id of each row (after fixClusters) */
  labels: number[];
  fix: FixReport;
  /** centre directions, movie-major: centre[col * clusters.length + j] */
  centre: Float64Array;
}

/** Each row's nearest clusters of one clustering: ids near[r*m .. r*m+m), cosines cos[...]. */
export interface Nearest {
  m: number;
  near: Int32Array;
  cos: Float64Array;
}

/**
 * Counts, fixClusters and centre directions for one clustering. `labels` are K-means labels on
 * `unit` (the unit-row features of `x`); `idOffset` makes cluster ids unique across clusterings.
 * A centre direction is the mean of the final members' unit rows, scaled to unit length.
 */
export function prepareClustering(
  x: CsrMatrix,
  unit: CsrMatrix,
  labels: ArrayLike<number>,
  opts: { idOffset: number; minClusterSize: number },
): TasteClustering {
  const shifted = Array.from(labels, (l) => l + opts.idOffset);
  const counted = clusterCounts(x, shifted);
  const moviesOf = (r: number) => {
    const out: number[] = [];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) out.push(x.colIds[x.indices[p]]);
    return out;
  };
  const fixed = fixClusters(counted, shifted, x.rowIds, moviesOf, opts.minClusterSize);
  const clusters = fixed.clusters;
  const kc = clusters.length;
  const slot = new Map<number, number>(clusters.map((c, j) => [c.id, j]));
  const d = x.nCols;
  const centre = new Float64Array(d * kc);
  for (let r = 0; r < x.nRows; r++) {
    const j = slot.get(fixed.labels[r])!;
    for (let p = unit.indptr[r]; p < unit.indptr[r + 1]; p++) centre[unit.indices[p] * kc + j] += unit.values![p];
  }
  const norm = new Float64Array(kc);
  for (let c = 0; c < d; c++) for (let j = 0; j < kc; j++) norm[j] += centre[c * kc + j] ** 2;
  for (let j = 0; j < kc; j++) norm[j] = norm[j] > 0 ? 1 / Math.sqrt(norm[j]) : 0;
  for (let c = 0; c < d; c++) for (let j = 0; j < kc; j++) centre[c * kc + j] *= norm[j];
  return { clusters, labels: fixed.labels, fix: fixed.report, centre };
}

/** The `neighbours` clusters of `part` with the highest cosine to each row of `member` (unit rows,
 * same columns as the clustering); ties → lower cluster id. */
export function nearestClusters(part: TasteClustering, member: CsrMatrix, neighbours: number): Nearest {
  const kc = part.clusters.length;
  const m = Math.min(neighbours, kc);
  const near = new Int32Array(member.nRows * m);
  const cos = new Float64Array(member.nRows * m);
  const dot = new Float64Array(kc);
  // the m best so far, cosine desc then cluster index asc (a bounded insertion, not a sort of all kc)
  const top = new Int32Array(m);
  for (let r = 0; r < member.nRows; r++) {
    dot.fill(0);
    for (let p = member.indptr[r]; p < member.indptr[r + 1]; p++) {
      const v = member.values ? member.values[p] : 1;
      const base = member.indices[p] * kc;
      for (let j = 0; j < kc; j++) dot[j] += v * part.centre[base + j];
    }
    let len = 0;
    for (let j = 0; j < kc; j++) {
      const d = dot[j];
      // j ascends, so an equal cosine never displaces an earlier (lower-index) cluster
      if (len === m && !(d > dot[top[m - 1]])) continue;
      let i = len < m ? len++ : m - 1;
      while (i > 0 && dot[top[i - 1]] < d) {
        top[i] = top[i - 1];
        i--;
      }
      top[i] = j;
    }
    for (let t = 0; t < m; t++) {
      near[r * m + t] = part.clusters[top[t]].id;
      cos[r * m + t] = dot[top[t]];
    }
  }
  return { m, near, cos };
}

/** Softmax weights over each clustering's nearest clusters, clusterings weighted equally; each user's
 * pairs sorted by weight desc, then cluster id asc. */
export function mixFromNearest(nears: readonly Nearest[], nRows: number, temperature: number): UserMix {
  const ptr = [0];
  const clusters: number[] = [];
  const weights: number[] = [];
  const E = nears.length;
  for (let r = 0; r < nRows; r++) {
    const pairs: Array<[number, number]> = [];
    for (const nb of nears) {
      const a = r * nb.m;
      const best = nb.cos[a];
      let sum = 0;
      const e: number[] = [];
      for (let t = 0; t < nb.m; t++) {
        const w = Math.exp((nb.cos[a + t] - best) / temperature);
        e.push(w);
        sum += w;
      }
      for (let t = 0; t < nb.m; t++) pairs.push([nb.near[a + t], e[t] / sum / E]);
    }
    pairs.sort((p, q) => q[1] - p[1] || p[0] - q[0]);
    for (const [c, w] of pairs) {
      clusters.push(c);
      weights.push(w);
    }
    ptr.push(clusters.length);
  }
  return { ptr, clusters, weights };
}

/** The servable taste model: the seed model's shape (users, their movies, ranked cluster lists, the
 * popular list; `userCluster` = the user's own cluster in the first clustering, the one favourites
 * count into) plus each user's mix. Cluster lists are cut to `listLength` movies. */
export function assembleTasteModel(
  x: CsrMatrix,
  parts: readonly TasteClustering[],
  mix: UserMix,
  listLength: number,
): ClusterModel {
  const userMovies: number[] = new Array(x.indptr[x.nRows]);
  for (let p = 0; p < userMovies.length; p++) userMovies[p] = x.colIds[x.indices[p]];
  const clusters: ClusterList[] = [];
  for (const part of parts) {
    for (const c of part.clusters) {
      clusters.push({ ...c, movieIds: c.movieIds.slice(0, listLength), counts: c.counts.slice(0, listLength) });
    }
  }
  return {
    userIds: Array.from(x.rowIds),
    userCluster: parts[0].labels.slice(),
    userMoviePtr: Array.from(x.indptr),
    userMovies,
    clusters,
    popular: popularList(x),
    mix,
  };
}
