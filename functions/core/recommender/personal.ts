// The default model's one scoring function ("taste + cluster-local EASE"). Serving (app/recommend.ts), the
// in-memory model (serve.ts recommendFor: the CLI, evaluation) and the batch scorer of validation and the
// publish check (batch.ts) all call scoreUser / rankMix below, so their answers are the same numbers.
//
// For a user with mix {(c, w_c)}, the user's recent movies i (ρ = 0.5^(age/h), age 0 = the newest) and
// seen movies S, a candidate m (in some mix list, not in S) scores
//     Σ_c w_c · ( β · count_c(m) / size_c + Σ_{i in the user's history, i in list c} ρ(i) · B_c[i, m] )
// ranked by score desc, then movieId asc. B_c is the cluster-local EASE matrix of list c (local-ease.ts).
// The arithmetic follows the reference (recipe.py recommend_one) operation for operation: a list's personal
// row adds ρ(i)·B_c[i, ·] over the list positions in ascending order, each product rounded before the add;
// a movie's score adds w · (β · count / size + s) per list, in the order the lists are given.

/** One cluster of a user's mix as the scorer reads it (movies in list space: ids, or columns in batch). */
export interface MixList {
  weight: number;
  /** the cluster's members, including users added since the version was trained */
  size: number;
  /** the cluster's published top-L movies, in B's order */
  movieIds: ArrayLike<number>;
  /** the live count of each of those movies (base count plus favourites counted since) */
  counts: ArrayLike<number>;
  /** L × L, row-major: b[i·L + j] = weight from movie i to movie j; the diagonal is 0 */
  b: Float32Array;
}

/** Model-wide serving settings of a CL-EASE version. */
export interface Scoring {
  /** weight of the cluster-count term */
  beta: number;
  /** recency half-life in movies of the personal term; 0 = every history movie weighs 1 */
  halfLife: number;
}

export interface ScoredItem {
  movieId: number;
  score: number;
}

/** ρ of every history movie (oldest first): 0.5^(age / halfLife), age 0 for the last one; 1 when
 * halfLife is 0. A movie listed twice keeps its newest weight. */
export function recencyWeights(history: ArrayLike<number>, halfLife: number): Map<number, number> {
  const rho = new Map<number, number>();
  const n = history.length;
  for (let j = 0; j < n; j++) rho.set(history[j], halfLife > 0 ? Math.pow(0.5, (n - 1 - j) / halfLife) : 1);
  return rho;
}

/** A list's personal row s = Σ_{positions p whose movie has a weight} ρ(movie_p) · B[p, ·]; null when none
 * of the list's movies is in the history (s = 0). */
export function personalRow(list: Pick<MixList, 'movieIds' | 'b'>, rho: ReadonlyMap<number, number>): Float64Array | null {
  const ids = list.movieIds;
  const L = ids.length;
  const b = list.b;
  let s: Float64Array | null = null;
  for (let p = 0; p < L; p++) {
    const r = rho.get(ids[p]);
    if (r === undefined) continue;
    if (s === null) s = new Float64Array(L);
    const row = p * L;
    for (let j = 0; j < L; j++) s[j] += r * b[row + j];
  }
  return s;
}

/**
 * Scores of the candidates (every movie of the lists that `seen` lacks) and items [offset, offset + n)
 * of their ranking (score desc, movieId asc). `rows[c]` is list c's personal row (personalRow; null = 0).
 * Split from scoreUser so validation can keep the rows of a setting while it varies β and the weights.
 */
export function rankMix(
  lists: readonly MixList[],
  rows: ReadonlyArray<Float64Array | null>,
  beta: number,
  seen: { has(m: number): boolean },
  n: number,
  offset: number,
): ScoredItem[] {
  const score = new Map<number, number>();
  for (let c = 0; c < lists.length; c++) {
    const l = lists[c];
    const w = l.weight;
    const size = l.size;
    const ids = l.movieIds;
    const counts = l.counts;
    const s = rows[c];
    for (let j = 0; j < ids.length; j++) {
      const m = ids[j];
      if (seen.has(m)) continue;
      const x = w * (beta * counts[j] / size + (s === null ? 0 : s[j]));
      const prev = score.get(m);
      score.set(m, prev === undefined ? 0 + x : prev + x);
    }
  }
  return topOf(score, n, offset);
}

/** Items [offset, offset + n) of the scores ranked by score desc, then movieId asc. */
function topOf(score: Map<number, number>, n: number, offset: number): ScoredItem[] {
  const want = offset + n;
  if (!(want >= 1) || n < 1) return [];
  const better = (sa: number, ma: number, sb: number, mb: number) => sa > sb || (sa === sb && ma < mb);
  // a bounded insertion: a page is small next to the ≤ 15 × L candidates
  const ids: number[] = [];
  const scores: number[] = [];
  for (const [m, sc] of score) {
    if (ids.length === want && !better(sc, m, scores[want - 1], ids[want - 1])) continue;
    let i = want - 1;
    if (ids.length < want) {
      ids.push(m);
      scores.push(sc);
      i = ids.length - 1;
    }
    while (i > 0 && better(sc, m, scores[i - 1], ids[i - 1])) {
      ids[i] = ids[i - 1];
      scores[i] = scores[i - 1];
      i--;
    }
    ids[i] = m;
    scores[i] = sc;
  }
  const out: ScoredItem[] = [];
  for (let i = offset; i < ids.length; i++) out.push({ movieId: ids[i], score: scores[i] });
  return out;
}

/** The user's ranked recommendations, items [offset, offset + n): personal rows from `history` (the user's
 * movies for the personal term, oldest first), then rankMix. */
export function scoreUser(
  lists: readonly MixList[],
  history: ArrayLike<number>,
  seen: { has(m: number): boolean },
  scoring: Scoring,
  n: number,
  offset = 0,
): ScoredItem[] {
  const rho = recencyWeights(history, scoring.halfLife);
  const rows = lists.map((l) => personalRow(l, rho));
  return rankMix(lists, rows, scoring.beta, seen, n, offset);
}

/**
 * The movies the personal term weighs, oldest first: with recency (halfLife > 0) the version's stored
 * newest movies of the user, then the favourites in the order added; without, every movie the user has
 * (order is irrelevant then: each weighs 1).
 */
export function personalHistory(
  scoring: Scoring,
  user: { recent: readonly number[]; movies: readonly number[]; favourites: readonly number[] },
): number[] {
  const base = scoring.halfLife > 0 ? user.recent : user.movies;
  if (user.favourites.length === 0) return base as number[];
  return [...base, ...user.favourites];
}
