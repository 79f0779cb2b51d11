// Serving: one entry point for both algorithms. A seed model (no mix) is answered by the seed's own
// recommend(), unchanged; a taste model merges the user's few weighted cluster lists.
import { clusterById, recommend, Recommendation, RecommendOptions, ClusterModel, userIndex, validatePaging } from '../model';
import { MixList, scoreUser } from './personal';

/** One of a user's clusters as read from the cluster table: its ranked list, size and the user's weight. */
export interface WeightedList {
  weight: number;
  size: number;
  movieIds: readonly number[];
  counts: readonly number[];
}

/**
 * Merge weighted cluster lists: score(m) = Σ weight · count(m) / size, the user's `seen` movies
 * excluded, ranked by score desc then movieId asc, items [offset, offset + n). Pure as far as callers
 * can tell, so the API can call it on lists read from DynamoDB.
 *
 * The API calls this on every taste-model request, so it allocates (almost) nothing but the returned
 * page: scores accumulate in a reused open-addressing table (below) and the page is picked by slot
 * index. The output is exactly what a Map would give: each score is summed over the lists in order,
 * entries in order, one `(weight / size) · count` at a time starting from 0 (bit-identical sums);
 * candidates are visited in first-insertion order (a Map's order) with the same selection rules as
 * before (a bounded insertion buffer when offset + n < merged / 4, else a full Array sort with the same
 * comparator), so even NaN or infinite counts come out as they did. Contract: movieIds are numbers
 * other than NaN (in practice non-negative integers, possibly above 2^32); n ≥ 1 and offset ≥ 0 are
 * integers (validatePaging and the API schema enforce it); outside that, where the Map version threw
 * (n + offset = 0 or fractional on a long merge) this returns [] or that slice of the full ranking.
 */
export function mergeWeightedLists(
  lists: readonly WeightedList[],
  seen: { has(m: number): boolean },
  n: number,
  offset: number,
): Array<{ movieId: number; score: number }> {
  let total = 0;
  for (let li = 0; li < lists.length; li++) {
    const l = lists[li];
    if (l.size > 0 && l.weight > 0) total += l.movieIds.length;
  }
  const capacity = capacityFor(total);
  // A nested call (only possible from inside `seen.has`) or an unusually large merge gets a table of
  // its own, so the shared one is never used twice at once and never pins a lot of memory.
  const own = !sharedBusy && capacity <= MAX_RETAINED_CAPACITY;
  let t: ScoreTable;
  if (own) {
    if (!shared || shared.keys.length < capacity) shared = new ScoreTable(capacity);
    t = shared;
    sharedBusy = true;
  } else {
    t = new ScoreTable(capacity);
  }
  try {
    t.clear();
    t.accumulate(lists, seen);
    return t.page(n, offset);
  } finally {
    if (own) {
      sharedBusy = false;
      if (t.keys.length > MAX_RETAINED_CAPACITY) shared = null; // grew past the cap mid-call
    }
  }
}

// --- the score table behind mergeWeightedLists ---

/** Slots a merge of `entries` list entries needs: a power of two ≥ 2 · entries (load ≤ 1/2). */
function capacityFor(entries: number): number {
  let c = MIN_CAPACITY;
  while (c < 2 * entries) c *= 2;
  return c;
}
const MIN_CAPACITY = 64;
/** The shared table is kept between calls up to this many slots (10 lists × 500 entries need 16,384). */
const MAX_RETAINED_CAPACITY = 1 << 15;
let shared: ScoreTable | null = null;
let sharedBusy = false;

/** Slot of movieId `m`: both 32-bit halves of the integer mixed (murmur3's finaliser), then masked. */
function slotOf(m: number, mask: number): number {
  let h = (m | 0) ^ Math.imul((m / 4294967296) | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

const better = (sa: number, ka: number, sb: number, kb: number) => sa > sb || (sa === sb && ka < kb);

/** Start and end of `Array.prototype.slice(from, to)` on `length` items. */
function sliceBound(x: number, length: number): number {
  const i = Math.trunc(x) || 0;
  return i < 0 ? Math.max(length + i, 0) : Math.min(i, length);
}

/** Open addressing with linear probing; a free slot's key is NaN (never a movieId). */
class ScoreTable {
  keys: Float64Array;
  scores: Float64Array;
  /** occupied slots in first-insertion order (what a Map would iterate) */
  used: Int32Array;
  count = 0;
  /** top-k buffer of slots, grown on demand */
  best = new Int32Array(64);
  /** slots to sort for a large page (a plain array: Array.prototype.sort, as before) */
  order: number[] = [];

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity).fill(NaN);
    this.scores = new Float64Array(capacity);
    this.used = new Int32Array(capacity >>> 1);
  }

  /** Free the slots the previous merge used (only those). */
  clear(): void {
    const { keys, used } = this;
    for (let j = 0; j < this.count; j++) keys[used[j]] = NaN;
    this.count = 0;
  }

  accumulate(lists: readonly WeightedList[], seen: { has(m: number): boolean }): void {
    let { keys, scores, used } = this;
    let mask = keys.length - 1;
    let count = 0;
    // `seen.has` may throw: `count` is stored in any case so that clear() frees every used slot
    try {
      for (let li = 0; li < lists.length; li++) {
        const l = lists[li];
        if (!(l.size > 0) || !(l.weight > 0)) continue;
        const f = l.weight / l.size;
        const movieIds = l.movieIds;
        const counts = l.counts;
        for (let i = 0; i < movieIds.length; i++) {
          const m = movieIds[i];
          if (seen.has(m)) continue;
          const x = f * counts[i];
          let s = slotOf(m, mask);
          for (;;) {
            const k = keys[s];
            if (k === m) {
              scores[s] += x;
              break;
            }
            if (k !== k) {
              if (count === used.length) {
                // only if the lists grew since they were counted: rehash into twice the slots
                this.count = count;
                this.grow();
                ({ keys, scores, used } = this);
                mask = keys.length - 1;
                s = slotOf(m, mask);
                while (keys[s] === keys[s]) s = (s + 1) & mask;
              }
              keys[s] = m + 0; // -0 → 0, as a Map key
              scores[s] = 0 + x;
              used[count++] = s;
              break;
            }
            s = (s + 1) & mask;
          }
        }
      }
    } finally {
      this.count = count;
    }
  }

  private grow(): void {
    const { keys, scores, used, count } = this;
    const next = new ScoreTable(keys.length * 2);
    const mask = next.keys.length - 1;
    for (let j = 0; j < count; j++) {
      const from = used[j];
      let s = slotOf(keys[from], mask);
      while (next.keys[s] === next.keys[s]) s = (s + 1) & mask;
      next.keys[s] = keys[from];
      next.scores[s] = scores[from];
      next.used[j] = s;
    }
    this.keys = next.keys;
    this.scores = next.scores;
    this.used = next.used;
  }

  /** Items [offset, offset + n) of the merged movies ranked by score desc, movieId asc. */
  page(n: number, offset: number): Array<{ movieId: number; score: number }> {
    const { keys, scores, used, count } = this;
    const want = offset + n;
    let picked: ArrayLike<number>;
    let length: number;
    if (want >= count / 4 || (!Number.isInteger(want) && want > 0)) {
      const order = this.order;
      for (let j = 0; j < count; j++) order[j] = used[j];
      order.length = count;
      order.sort((a, b) => scores[b] - scores[a] || keys[a] - keys[b]);
      picked = order;
      length = count;
    } else if (!(want >= 1)) {
      return []; // n + offset ≤ 0: nothing to return
    } else {
      // keep only the best `want` in a sorted buffer (a page is small next to the merged lists)
      if (this.best.length < want) this.best = new Int32Array(capacityFor(want));
      const best = this.best;
      let len = 0;
      for (let j = 0; j < count; j++) {
        const s = used[j];
        const sc = scores[s];
        const k = keys[s];
        if (len === want && !better(sc, k, scores[best[want - 1]], keys[best[want - 1]])) continue;
        let i = len < want ? len++ : want - 1;
        while (i > 0 && better(sc, k, scores[best[i - 1]], keys[best[i - 1]])) {
          best[i] = best[i - 1];
          i--;
        }
        best[i] = s;
      }
      picked = best;
      length = len;
    }
    const out: Array<{ movieId: number; score: number }> = [];
    const end = sliceBound(offset + n, length);
    for (let j = sliceBound(offset, length); j < end; j++) {
      const s = picked[j];
      out.push({ movieId: keys[s], score: scores[s] });
    }
    return out;
  }
}

/** The user's mix as weighted lists (empty when the model has no mix or the user is unknown). */
export function userLists(model: ClusterModel, userId: number): WeightedList[] {
  const i = userIndex(model, userId);
  if (i < 0 || !model.mix) return [];
  const out: WeightedList[] = [];
  for (let p = model.mix.ptr[i]; p < model.mix.ptr[i + 1]; p++) {
    const c = clusterById(model, model.mix.clusters[p]);
    out.push({ weight: model.mix.weights[p], size: c.size, movieIds: c.movieIds, counts: c.counts });
  }
  return out;
}

/** User i's mix as the CL-EASE scorer reads it: each cluster's local matrix, movies and live counts. */
export function mixLists(model: ClusterModel, i: number): MixList[] {
  const mix = model.mix!;
  const out: MixList[] = [];
  for (let p = mix.ptr[i]; p < mix.ptr[i + 1]; p++) {
    const c = clusterById(model, mix.clusters[p]);
    if (!c.local) throw new Error(`cluster ${c.id} has no local matrix`);
    out.push({ weight: mix.weights[p], size: c.size, movieIds: c.local.movieIds, counts: c.local.counts, b: c.local.b });
  }
  return out;
}

/** Recommendations for a user from either kind of model. Unknown users get the most-popular list. */
export function recommendFor(model: ClusterModel, userId: number, opts: RecommendOptions = {}): Recommendation {
  if (!model.mix) return recommend(model, userId, opts);
  const n = opts.n ?? 10;
  const offset = opts.offset ?? 0;
  validatePaging(n, offset, Number.MAX_SAFE_INTEGER);
  const i = userIndex(model, userId);
  if (i < 0) return recommend(model, userId, opts);
  const movies = model.userMovies.slice(model.userMoviePtr[i], model.userMoviePtr[i + 1]);
  const seen = new Set(movies);
  if (model.scoring) {
    // CL-EASE: the user's movies (and favourites, which addFavourite made the newest) drive the personal term
    const history = model.scoring.halfLife > 0 && model.recent ? model.recent.movies.slice(model.recent.ptr[i], model.recent.ptr[i + 1]) : movies;
    const items = scoreUser(mixLists(model, i), history, seen, model.scoring, n, offset);
    return { userId, source: 'cluster', cluster: model.userCluster[i], items };
  }
  const items = mergeWeightedLists(userLists(model, userId), seen, n, offset);
  return { userId, source: 'cluster', cluster: model.mix.clusters[model.mix.ptr[i]] ?? model.userCluster[i], items };
}
