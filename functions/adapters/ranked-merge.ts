// Merging the favourite counters (a delta per movie) into a version's immutable ranked list, with exactly the
// semantics of core/model.ts incrementRanked: adding d to a movie equals d single increments (each bubbles the
// entry forward past entries that rank strictly lower), movies absent from the list are appended with 0 first.
// Deltas are applied in ascending movieId order, the canonical order documented in docs/ARCHITECTURE.md.
import type { RankedList } from '../core/model';

export interface IndexedList extends RankedList {
  /** movieId → position */
  pos: Map<number, number>;
}

export function indexList(list: RankedList): IndexedList {
  const pos = new Map<number, number>();
  for (let i = 0; i < list.movieIds.length; i++) pos.set(list.movieIds[i], i);
  return { movieIds: list.movieIds, counts: list.counts, pos };
}

/** Add `by` (> 0) to the movie's count, appending it when absent, and restore the ranking in place. */
export function incrementRankedBy(list: IndexedList, movieId: number, by: number): number {
  let i = list.pos.get(movieId);
  if (i === undefined) {
    list.movieIds.push(movieId);
    list.counts.push(0);
    i = list.movieIds.length - 1;
  }
  const count = list.counts[i] + by;
  while (i > 0 && (list.counts[i - 1] < count || (list.counts[i - 1] === count && list.movieIds[i - 1] > movieId))) {
    list.movieIds[i] = list.movieIds[i - 1];
    list.counts[i] = list.counts[i - 1];
    list.pos.set(list.movieIds[i], i);
    i--;
  }
  list.movieIds[i] = movieId;
  list.counts[i] = count;
  list.pos.set(movieId, i);
  return count;
}

/** A new ranked list: the base (untouched) plus the deltas. */
export function mergeDeltas(base: RankedList, deltas: Map<number, number>): RankedList {
  if (deltas.size === 0) return base;
  const list = indexList({ movieIds: [...base.movieIds], counts: [...base.counts] });
  for (const m of [...deltas.keys()].sort((a, b) => a - b)) {
    const d = deltas.get(m)!;
    if (d > 0) incrementRankedBy(list, m, d);
  }
  return { movieIds: list.movieIds, counts: list.counts };
}
