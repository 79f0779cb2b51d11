// "More like this": a movie's most similar movies, from the model's cluster lists alone (no ratings needed,
// so it works for any way of making clusters that yields ranked (movieId, count) lists with sizes).
//
// Within a cluster of s users where c_i have movie i and c_j have movie j, about c_i·c_j/s users have both if
// the cluster's users are alike (the premise of clustering). Summed over the clusters this estimates how many
// users have both movies; divided by √(P_i·P_j), P = the movie's count summed over the lists, it is the cosine
// of the two movies' user sets (item-kNN's binary cosine) estimated from cluster statistics:
//
//   sim(i, j) = Σ_c c_i·c_j / s_c  /  √(P_i · P_j)
//
// A cluster's list can be long (the seed algorithm keeps every movie of its users), so only the first
// NEIGHBOURS_PER_LIST entries of each list take part: they are the movies that get similar movies and the
// movies that can be one. That bounds the work (lists × NEIGHBOURS_PER_LIST² per publish) and the items a
// publish writes (at most lists × NEIGHBOURS_PER_LIST, one per movie; 100,000 movies of a seed model's long
// tails would otherwise be 100,000 items); the taste model's lists are that short already, so for it nothing
// is left out. A movie's score still sums over every list that holds it. Ranking: score desc, then movieId
// asc. The same scorer answers the CLI (one movie) and the publish (every movie), so both give identical lists.
import type { ClusterList } from './model';

/** Similar movies kept per movie (the API's `n` is at most this). */
export const SIMILAR_MAX = 50;
/** Entries of each cluster list considered as neighbours. */
export const NEIGHBOURS_PER_LIST = 500;
/** Scores are reported with this many significant digits (the order is decided on the exact values). */
const SCORE_DIGITS = 4;

export interface SimilarItem {
  movieId: number;
  score: number;
}

/** Every movie's similar movies: those of movieIds[i] are neighbours/scores[ptr[i] .. ptr[i+1]). */
export interface SimilarIndex {
  /** ascending */
  movieIds: number[];
  ptr: number[];
  neighbours: number[];
  scores: number[];
}

type Lists = ReadonlyArray<Pick<ClusterList, 'movieIds' | 'counts' | 'size'>>;

export class SimilarScorer {
  /** movie id of each dense index, ascending */
  readonly ids: number[];
  private readonly indexOf = new Map<number, number>();
  // per movie: the (list, count) pairs of the lists holding it, and its total count P
  private readonly postPtr: Int32Array;
  private readonly postList: Int32Array;
  private readonly postCount: Float64Array;
  private readonly total: Float64Array;
  // per list: its first NEIGHBOURS_PER_LIST entries as dense indices, and 1 / size; which movies are among them
  private readonly candPtr: Int32Array;
  private readonly candidate: Uint8Array;
  private readonly candIdx: Int32Array;
  private readonly candCount: Float64Array;
  private readonly invSize: Float64Array;
  // scratch of one row
  private readonly acc: Float64Array;
  private readonly touched: Int32Array;

  constructor(lists: Lists, neighboursPerList = NEIGHBOURS_PER_LIST) {
    const all = new Set<number>();
    for (const l of lists) for (const m of l.movieIds) all.add(m);
    this.ids = [...all].sort((a, b) => a - b);
    this.ids.forEach((m, i) => this.indexOf.set(m, i));
    const nm = this.ids.length;
    const live = lists.map((l) => l.size > 0);

    const perMovie = new Int32Array(nm + 1);
    lists.forEach((l, k) => {
      if (live[k]) for (const m of l.movieIds) perMovie[this.indexOf.get(m)! + 1]++;
    });
    for (let i = 0; i < nm; i++) perMovie[i + 1] += perMovie[i];
    this.postPtr = perMovie;
    this.postList = new Int32Array(perMovie[nm]);
    this.postCount = new Float64Array(perMovie[nm]);
    this.total = new Float64Array(nm);
    const fill = Int32Array.from(perMovie.subarray(0, nm));
    lists.forEach((l, k) => {
      if (!live[k]) return;
      for (let e = 0; e < l.movieIds.length; e++) {
        const i = this.indexOf.get(l.movieIds[e])!;
        this.postList[fill[i]] = k;
        this.postCount[fill[i]++] = l.counts[e];
        this.total[i] += l.counts[e];
      }
    });

    this.candPtr = new Int32Array(lists.length + 1);
    lists.forEach((l, k) => (this.candPtr[k + 1] = this.candPtr[k] + (live[k] ? Math.min(l.movieIds.length, neighboursPerList) : 0)));
    this.candIdx = new Int32Array(this.candPtr[lists.length]);
    this.candCount = new Float64Array(this.candPtr[lists.length]);
    this.invSize = new Float64Array(lists.length);
    this.candidate = new Uint8Array(nm);
    lists.forEach((l, k) => {
      this.invSize[k] = live[k] ? 1 / l.size : 0;
      for (let e = 0, at = this.candPtr[k]; at < this.candPtr[k + 1]; e++, at++) {
        this.candIdx[at] = this.indexOf.get(l.movieIds[e])!;
        this.candCount[at] = l.counts[e];
        this.candidate[this.candIdx[at]] = 1;
      }
    });
    this.acc = new Float64Array(nm);
    this.touched = new Int32Array(nm);
  }

  /** The n movies most similar to `movieId`; null when it is not among the first entries of any list. */
  similar(movieId: number, n: number): SimilarItem[] | null {
    const i = this.indexOf.get(movieId);
    return i === undefined || !this.candidate[i] ? null : this.row(i, n);
  }

  /** Dense indices of the movies that get similar movies (ascending movie ids). */
  sources(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.candidate[i]) out.push(i);
    return out;
  }

  /** The n most similar movies of the movie at dense index i. */
  row(i: number, n: number): SimilarItem[] {
    const { acc, touched, postList, postCount, candPtr, candIdx, candCount, invSize, total, ids } = this;
    let nt = 0;
    for (let p = this.postPtr[i]; p < this.postPtr[i + 1]; p++) {
      const k = postList[p];
      const f = postCount[p] * invSize[k];
      for (let at = candPtr[k]; at < candPtr[k + 1]; at++) {
        const j = candIdx[at];
        if (j === i) continue;
        if (acc[j] === 0) touched[nt++] = j;
        acc[j] += f * candCount[at];
      }
    }
    // best n by score desc, movieId asc (dense indices ascend with movie ids), in an insertion buffer
    const best: number[] = [];
    const bestScore: number[] = [];
    const norm = Math.sqrt(total[i]);
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      const s = acc[j] / (norm * Math.sqrt(total[j]));
      acc[j] = 0;
      if (!(s > 0)) continue;
      if (best.length === n && !(s > bestScore[n - 1] || (s === bestScore[n - 1] && j < best[n - 1]))) continue;
      let at = best.length < n ? best.length : n - 1;
      best[at] = j;
      bestScore[at] = s;
      while (at > 0 && (bestScore[at - 1] < s || (bestScore[at - 1] === s && best[at - 1] > j))) {
        best[at] = best[at - 1];
        bestScore[at] = bestScore[at - 1];
        best[at - 1] = j;
        bestScore[at - 1] = s;
        at--;
      }
    }
    return best.map((j, r) => ({ movieId: ids[j], score: Number(bestScore[r].toPrecision(SCORE_DIGITS)) }));
  }
}

/** The n movies most similar to one movie (null when it is not among the first entries of any list). */
export function similarMovies(model: { clusters: Lists }, movieId: number, n = 10): SimilarItem[] | null {
  return new SimilarScorer(model.clusters).similar(movieId, Math.min(n, SIMILAR_MAX));
}

/** The SIMILAR_MAX most similar movies of every movie among the first entries of a list (what a publish
 * stores, one item per movie). */
export function similarIndex(model: { clusters: Lists }, n = SIMILAR_MAX): SimilarIndex {
  const scorer = new SimilarScorer(model.clusters);
  const sources = scorer.sources();
  const out: SimilarIndex = { movieIds: sources.map((i) => scorer.ids[i]), ptr: [0], neighbours: [], scores: [] };
  for (const i of sources) {
    for (const it of scorer.row(i, n)) {
      out.neighbours.push(it.movieId);
      out.scores.push(it.score);
    }
    out.ptr.push(out.neighbours.length);
  }
  return out;
}
