// Building blocks of the default model, "taste + cluster-local EASE" (CL-EASE), shared by the training
// paths (train.ts for up to a few million interactions, large.ts beyond), validation (select.ts) and the
// batch scorer (batch.ts). Each is a pure function of typed arrays:
//   publishedLists  clusterings → each cluster's top-L movies on the matrix's columns (counts, size)
//   gramSample      which users the local matrices' co-occurrences come from
//   unionGram       (local-ease.ts) co-occurrences over the union of the lists' movies
//   fitLocals       one cluster-local EASE matrix per list
//   userHistories   each user's movies for the personal term (newest R, or all without recency)
//   assembleClEase  the servable model
import { Rng } from '../kmeans/prng';
import { popularList } from '../cluster-lists';
import { ClusterList, ClusterModel, UserMix } from '../model';
import { CsrMatrix } from '../types';
import { localB, UnionGram } from './local-ease';
import { MixList, Scoring } from './personal';
import { newestMovies } from './features';
import { TasteClustering } from './taste';

/** A cluster's published list on the matrix's columns. */
export interface ListCols {
  id: number;
  size: number;
  /** top-L movies (count desc, movieId asc) as matrix columns, and their counts */
  cols: Int32Array;
  counts: Float64Array;
}

/** Each final cluster's first `L` movies of its ranked list, as columns of `x` (the clusterings' matrix). */
export function publishedLists(x: CsrMatrix, parts: readonly TasteClustering[], L: number): ListCols[] {
  const colOf = columnIndex(x);
  const out: ListCols[] = [];
  for (const part of parts) {
    for (const c of part.clusters) {
      const n = Math.min(L, c.movieIds.length);
      const cols = new Int32Array(n);
      const counts = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const col = colOf.get(c.movieIds[i]);
        if (col === undefined) throw new Error(`publishedLists: movie ${c.movieIds[i]} is not a column of the matrix`);
        cols[i] = col;
        counts[i] = c.counts[i];
      }
      out.push({ id: c.id, size: c.size, cols, counts });
    }
  }
  return out;
}

/** movieId → column of x */
export function columnIndex(x: CsrMatrix): Map<number, number> {
  const colOf = new Map<number, number>();
  for (let c = 0; c < x.nCols; c++) colOf.set(x.colIds[c], c);
  return colOf;
}

/** Every column some list holds. */
export function unionOf(lists: readonly { cols: ArrayLike<number> }[]): Set<number> {
  const s = new Set<number>();
  for (const l of lists) for (let i = 0; i < l.cols.length; i++) s.add(l.cols[i]);
  return s;
}

/** Rows the co-occurrences are counted over: all (null) up to `max`, else a seeded sample of `max`
 * (ascending), drawn from `pool` when given (rows of the matrix), else from all rows. */
export function gramSample(nRows: number, max: number, seed: number, pool?: ArrayLike<number>): Int32Array | null {
  const from = pool ? Int32Array.from(pool) : null;
  const n = from ? from.length : nRows;
  if (!from && n <= max) return null;
  if (n <= max) return from!.slice().sort();
  const rows = from ?? Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed, 11);
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(n - i);
    const t = rows[i];
    rows[i] = rows[j];
    rows[j] = t;
  }
  return rows.slice(0, max).sort();
}

/** One local EASE matrix per list. */
export function fitLocals(gram: UnionGram, lists: readonly ListCols[], lambdaRel: number): Float32Array[] {
  return lists.map((l) => localB(gram, l.cols, lambdaRel));
}

/** The movies each user's personal term weighs, oldest first (ids): the newest `recentMovies` with
 * recency, every movie without (then only the set matters). Returned as the model's `recent` arrays
 * when recency is on, else null (the model's userMovies serve). */
export function userHistories(
  x: CsrMatrix,
  ages: Int32Array | undefined,
  halfLife: number,
  recentMovies: number,
): { ptr: number[]; movies: number[] } | null {
  if (!(halfLife > 0) || !ages) return null;
  return newestMovies(x, ages, recentMovies);
}

/**
 * The servable CL-EASE model: users, their movies, the clusters' published lists (cut to L, each with its
 * local matrix), the popular list, each user's mix, the serving settings and, with recency, each user's
 * newest movies. `primary` is each user's final cluster in the first clustering (favourites count there).
 */
export function assembleClEase(
  x: CsrMatrix,
  lists: readonly ListCols[],
  bs: readonly Float32Array[],
  primary: ArrayLike<number>,
  mix: UserMix,
  scoring: Scoring,
  recent: { ptr: number[]; movies: number[] } | null,
): ClusterModel {
  const userMovies: number[] = new Array(x.indptr[x.nRows]);
  for (let p = 0; p < userMovies.length; p++) userMovies[p] = x.colIds[x.indices[p]];
  const clusters: ClusterList[] = lists.map((l, j) => {
    const movieIds = Array.from(l.cols, (c) => x.colIds[c]);
    const counts = Array.from(l.counts);
    return { id: l.id, size: l.size, movieIds, counts, local: { movieIds: movieIds.slice(), counts: counts.slice(), b: bs[j] } };
  });
  clusters.sort((a, b) => a.id - b.id);
  return {
    userIds: Array.from(x.rowIds),
    userCluster: Array.from(primary),
    userMoviePtr: Array.from(x.indptr),
    userMovies,
    clusters,
    popular: popularList(x),
    mix,
    scoring: { beta: scoring.beta, halfLife: scoring.halfLife },
    ...(recent ? { recent } : {}),
  };
}

/** A mix list in column space for the batch scorer: a model's cluster on the columns of the matrix it was
 * trained on (the same numbers as serving reads, so the same ranking: columns ascend with movieId). */
export function columnMixList(list: ClusterList, colOf: ReadonlyMap<number, number>): Omit<MixList, 'weight'> {
  const local = list.local;
  if (!local) throw new Error(`cluster ${list.id} has no local matrix`);
  const cols = new Int32Array(local.movieIds.length);
  for (let i = 0; i < cols.length; i++) {
    const c = colOf.get(local.movieIds[i]);
    if (c === undefined) throw new Error(`columnMixList: movie ${local.movieIds[i]} of cluster ${list.id} is not a column of the matrix`);
    cols[i] = c;
  }
  return { size: list.size, movieIds: cols, counts: Float64Array.from(local.counts), b: local.b };
}
