// Filters on recommendations (genre, excluded genres, excluded ids), applied inside the ranking walk rather
// than to a finished page: the walk skips a filtered movie exactly as it skips one the user has seen, so a page
// holds n items whenever the cluster lists hold n that pass, and offset counts passing items only.
//
// Genres come from the movie catalogue (movies.csv); names match case-insensitively. Semantics follow Amazon
// Personalize's `Items.GENRES IN (…)`: `genres` keeps a movie that has ANY of them, `excludeGenres` drops a
// movie that has any of them, `exclude` drops those ids.
import { InputError } from './types';

export interface RecommendationFilter {
  /** keep only movies with at least one of these genres */
  genres?: readonly string[];
  /** drop movies with any of these genres */
  excludeGenres?: readonly string[];
  /** drop these movie ids */
  exclude?: readonly number[];
}

/** What the filter needs of the catalogue: each movie's genres. */
export type GenreCatalogue = ReadonlyMap<number, { genres: readonly string[] }>;

/** The catalogue's genres: display names (sorted) and, per lower-cased name, the movies that have it; with at
 * most 31 genres (MovieLens has 20) also one bit per genre and each movie's genres as a bit mask, so a filter
 * costs one array read per movie however many genres it names. */
export interface GenreIndex {
  names: string[];
  movies: Map<string, Set<number>>;
  /** lower-cased name → its bit (null with more than 31 genres) */
  bits: Map<string, number> | null;
  /** movieId → mask: an array indexed by id when the ids are small enough (≤ MAX_DENSE_ID), else a Map */
  masks: Uint32Array | Map<number, number> | null;
}

/** Largest movie id for the dense mask array (8 MB); MovieLens ids stay below 300,000. */
const MAX_DENSE_ID = 1 << 21;

// One index per catalogue object: the API's catalogue is one cached Map for minutes, so the index is built once
// per catalogue load, not per request.
const indexes = new WeakMap<GenreCatalogue, GenreIndex>();

export function genreIndex(catalogue: GenreCatalogue): GenreIndex {
  let idx = indexes.get(catalogue);
  if (idx) return idx;
  const movies = new Map<string, Set<number>>();
  const names = new Map<string, string>();
  for (const [movieId, m] of catalogue) {
    for (const g of m.genres) {
      const key = g.trim().toLowerCase();
      if (!key) continue;
      if (!movies.has(key)) {
        movies.set(key, new Set());
        names.set(key, g.trim());
      }
      movies.get(key)!.add(movieId);
    }
  }
  idx = { names: [...names.values()].sort((a, b) => a.localeCompare(b)), movies, bits: null, masks: null };
  if (movies.size <= 31) {
    const bits = new Map([...movies.keys()].map((key, b) => [key, 1 << b]));
    let maxId = 0;
    for (const id of catalogue.keys()) maxId = Math.max(maxId, id);
    const masks = maxId <= MAX_DENSE_ID ? new Uint32Array(maxId + 1) : new Map<number, number>();
    for (const [key, set] of movies) {
      const bit = bits.get(key)!;
      for (const m of set) {
        if (masks instanceof Uint32Array) masks[m] |= bit;
        else masks.set(m, (masks.get(m) ?? 0) | bit);
      }
    }
    Object.assign(idx, { bits, masks });
  }
  indexes.set(catalogue, idx);
  return idx;
}

export function isEmptyFilter(f: RecommendationFilter | undefined): boolean {
  return !f || (!f.genres?.length && !f.excludeGenres?.length && !f.exclude?.length);
}

/** The set a ranking walk skips: the user's `seen` movies plus everything the filter removes. Throws an
 * InputError (a 400) for a genre filter without a catalogue or with a genre the catalogue does not have. */
export function skipSet(
  seen: { has(m: number): boolean },
  filter: RecommendationFilter | undefined,
  catalogue: GenreCatalogue | undefined,
): { has(m: number): boolean } {
  if (isEmptyFilter(filter)) return seen;
  const f = filter!;
  let include: Set<number>[] | null = null;
  let drop: Set<number>[] | null = null;
  if (f.genres?.length || f.excludeGenres?.length) {
    if (!catalogue || catalogue.size === 0) {
      throw new InputError(
        'no_catalogue',
        'Genre filters need the movie catalogue, and none is loaded: upload MovieLens movies.csv (movieId,title,genres) to uploads/ first.',
      );
    }
    const idx = genreIndex(catalogue);
    const sets = (names: readonly string[] | undefined, param: string) =>
      names?.length ? names.map((g) => genreSet(idx, g, param)) : null;
    include = sets(f.genres, 'genre');
    drop = sets(f.excludeGenres, 'excludeGenre');
    if (idx.bits && idx.masks) {
      const mask = (names: readonly string[] | undefined) => (names ?? []).reduce((m, g) => m | idx.bits!.get(g.trim().toLowerCase())!, 0);
      return new MaskSkip(seen, f.exclude?.length ? new Set(f.exclude) : null, idx.masks, mask(f.genres), mask(f.excludeGenres));
    }
  }
  return new Skip(seen, f.exclude?.length ? new Set(f.exclude) : null, include, drop);
}

/** The same set as Skip, decided on the catalogue's genre masks. */
class MaskSkip {
  private readonly dense: Uint32Array | null;
  private readonly sparse: Map<number, number> | null;

  constructor(
    private readonly seen: { has(m: number): boolean },
    private readonly ids: Set<number> | null,
    masks: Uint32Array | Map<number, number>,
    /** 0: no genre wanted in particular */
    private readonly include: number,
    private readonly drop: number,
  ) {
    this.dense = masks instanceof Uint32Array ? masks : null;
    this.sparse = masks instanceof Uint32Array ? null : masks;
  }

  has(m: number): boolean {
    if (this.seen.has(m)) return true;
    if (this.ids !== null && this.ids.has(m)) return true;
    const g = this.dense !== null ? (m < this.dense.length ? this.dense[m] : 0) : (this.sparse!.get(m) ?? 0);
    if (this.include !== 0 && (g & this.include) === 0) return true;
    return (g & this.drop) !== 0;
  }
}

function genreSet(idx: GenreIndex, name: string, param: string): Set<number> {
  const s = idx.movies.get(name.trim().toLowerCase());
  if (s) return s;
  throw new InputError('unknown_genre', `${param}: the catalogue has no genre "${name}"; its genres are ${idx.names.join(', ')}.`);
}

/** seen ∪ excluded ids ∪ movies outside the wanted genres ∪ movies in a dropped genre. */
class Skip {
  constructor(
    private readonly seen: { has(m: number): boolean },
    private readonly ids: Set<number> | null,
    private readonly include: Set<number>[] | null,
    private readonly drop: Set<number>[] | null,
  ) {}

  has(m: number): boolean {
    if (this.seen.has(m)) return true;
    if (this.ids !== null && this.ids.has(m)) return true;
    if (this.include !== null) {
      let wanted = false;
      for (const s of this.include) {
        if (s.has(m)) {
          wanted = true;
          break;
        }
      }
      if (!wanted) return true;
    }
    if (this.drop !== null) for (const s of this.drop) if (s.has(m)) return true;
    return false;
  }
}
