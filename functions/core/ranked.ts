// Ranked movie lists and the one rule that changes them: a favourite adds 1 to a movie's count (a movie
// the list lacks is appended with 0 first) and the entry moves forward past every entry that now ranks
// strictly lower (count desc, then movieId asc). The in-memory model applies it one favourite at a time;
// the API merges a version's favourite counters (a delta per movie) into its immutable base list with the
// same function, deltas in ascending movieId (the canonical order, docs/ARCHITECTURE.md).

/** A ranked movie list: parallel arrays, sorted by count descending, then movieId ascending. */
export interface RankedList {
  movieIds: number[];
  counts: number[];
}

/** Sort movie/count pairs by count desc, then movieId asc (the seed sorts by count with pandas' unstable
 * sort, so its order among equal counts is arbitrary; here ties go by movieId). */
export function rankPairs(movieIds: ArrayLike<number>, counts: ArrayLike<number>): RankedList {
  return rankPacked(movieIds, counts) ?? rankCompared(movieIds, counts);
}

function rankCompared(movieIds: ArrayLike<number>, counts: ArrayLike<number>): RankedList {
  const order = Array.from({ length: movieIds.length }, (_, i) => i);
  order.sort((a, b) => counts[b] - counts[a] || movieIds[a] - movieIds[b]);
  return { movieIds: order.map((i) => movieIds[i]), counts: order.map((i) => counts[i]) };
}

const ID_SPAN = 2 ** 32;
const COUNT_SPAN = 2 ** 21;

/** The same order from one numeric typed-array sort of exact keys (COUNT_SPAN − 1 − count)·2³² + movieId,
 * when every id is an integer in [0, 2³²) and every count an integer in [0, 2²¹) (keys stay below 2⁵³):
 * training ranks every cluster's list, and the comparator sort of hundreds of thousands of pairs was most of
 * the seed model's counting time. null when the values do not fit (the comparator sort then). */
function rankPacked(movieIds: ArrayLike<number>, counts: ArrayLike<number>): RankedList | null {
  const n = movieIds.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = movieIds[i];
    const c = counts[i];
    if (!(Number.isInteger(id) && id >= 0 && id < ID_SPAN && Number.isInteger(c) && c >= 0 && c < COUNT_SPAN)) return null;
    keys[i] = (COUNT_SPAN - 1 - c) * ID_SPAN + id;
  }
  keys.sort();
  const ids: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < n; i++) {
    const high = Math.floor(keys[i] / ID_SPAN);
    ids.push(keys[i] - high * ID_SPAN);
    cs.push(COUNT_SPAN - 1 - high);
  }
  return { movieIds: ids, counts: cs };
}

/** Add `by` (≥ 1) to the movie's count, appending it when absent, and restore the ranking in place. Only
 * the moved entry shifts (O(position)). `pos` (movieId → index), when given, is looked up and kept current
 * instead of scanning the list. Returns the movie's new count. */
export function incrementRanked(list: RankedList, movieId: number, by = 1, pos?: Map<number, number>): number {
  let i = pos ? pos.get(movieId) ?? -1 : list.movieIds.indexOf(movieId);
  if (i < 0) {
    list.movieIds.push(movieId);
    list.counts.push(0);
    i = list.movieIds.length - 1;
  }
  const count = list.counts[i] + by;
  while (i > 0 && (list.counts[i - 1] < count || (list.counts[i - 1] === count && list.movieIds[i - 1] > movieId))) {
    list.movieIds[i] = list.movieIds[i - 1];
    list.counts[i] = list.counts[i - 1];
    pos?.set(list.movieIds[i], i);
    i--;
  }
  list.movieIds[i] = movieId;
  list.counts[i] = count;
  pos?.set(movieId, i);
  return count;
}

/** A new ranked list: `base` (left untouched) with each movie's delta applied as `delta` single favourites,
 * movies in ascending id. */
export function mergeDeltas(base: RankedList, deltas: ReadonlyMap<number, number>): RankedList {
  if (deltas.size === 0) return base;
  const list: RankedList = { movieIds: [...base.movieIds], counts: [...base.counts] };
  const pos = new Map<number, number>();
  for (let i = 0; i < list.movieIds.length; i++) pos.set(list.movieIds[i], i);
  for (const m of [...deltas.keys()].sort((a, b) => a - b)) {
    const d = deltas.get(m)!;
    if (d > 0) incrementRanked(list, m, d, pos);
  }
  return list;
}
