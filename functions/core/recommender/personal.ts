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
  let entries = 0;
  for (const l of lists) entries += l.movieIds.length;
  const table = ScoreTable.take(entries);
  try {
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
        table.add(m, w * (beta * counts[j] / size + (s === null ? 0 : s[j])));
      }
    }
    return table.top(n, offset);
  } finally {
    table.release();
  }
}

/**
 * Candidate scores: open addressing on typed arrays (a free slot's key is NaN, never a movie id), reused
 * between calls — this runs on every request and thousands of times per validated setting. A movie's first
 * score is 0 + x, later ones are added in call order, exactly as a Map's get/set would sum them.
 */
class ScoreTable {
  private static shared: ScoreTable | null = null;
  private readonly keys: Float64Array;
  private readonly scores: Float64Array;
  private readonly used: Int32Array;
  private readonly mask: number;
  private count = 0;
  private busy = false;

  private constructor(capacity: number) {
    this.keys = new Float64Array(capacity).fill(NaN);
    this.scores = new Float64Array(capacity);
    this.used = new Int32Array(capacity >>> 1);
    this.mask = capacity - 1;
  }

  /** A table for up to `entries` distinct movies: the shared one unless it is in use (a nested call from
   * `seen.has`) or too small; only tables up to 2^16 slots are kept between calls. */
  static take(entries: number): ScoreTable {
    let capacity = 64;
    while (capacity < 2 * entries) capacity *= 2;
    const s = ScoreTable.shared;
    if (s && !s.busy && s.keys.length >= capacity) {
      s.busy = true;
      return s;
    }
    const t = new ScoreTable(capacity);
    t.busy = true;
    if ((!s || !s.busy) && capacity <= 1 << 16) ScoreTable.shared = t;
    return t;
  }

  release(): void {
    for (let j = 0; j < this.count; j++) this.keys[this.used[j]] = NaN;
    this.count = 0;
    this.busy = false;
  }

  add(m: number, x: number): void {
    const keys = this.keys;
    // both 32-bit halves of the id mixed (murmur3's finaliser), then masked
    let h = (m | 0) ^ Math.imul((m / 4294967296) | 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let slot = (h ^ (h >>> 16)) & this.mask;
    for (;;) {
      const k = keys[slot];
      if (k === m) {
        this.scores[slot] += x;
        return;
      }
      if (k !== k) {
        keys[slot] = m;
        this.scores[slot] = 0 + x;
        this.used[this.count++] = slot;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Items [offset, offset + n) ranked by score desc, then movieId asc (a bounded insertion). */
  top(n: number, offset: number): ScoredItem[] {
    const want = offset + n;
    if (!(want >= 1) || n < 1) return [];
    const { keys, scores, used } = this;
    const best: number[] = [];
    const better = (a: number, b: number) => scores[a] > scores[b] || (scores[a] === scores[b] && keys[a] < keys[b]);
    for (let j = 0; j < this.count; j++) {
      const slot = used[j];
      if (best.length === want && !better(slot, best[want - 1])) continue;
      let i = want - 1;
      if (best.length < want) {
        best.push(slot);
        i = best.length - 1;
      }
      while (i > 0 && better(slot, best[i - 1])) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = slot;
    }
    const out: ScoredItem[] = [];
    for (let i = offset; i < best.length; i++) out.push({ movieId: keys[best[i]], score: scores[best[i]] });
    return out;
  }
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
