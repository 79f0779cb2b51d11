// Item layout of both tables (string pk + sk, TTL attribute expiresAt; see functions/shared/resources.ts).
// Documented with the reasoning in docs/ARCHITECTURE.md ("DynamoDB layout").
//
// clusters table
//   model / active                     active pointer {version, sourceOrder, source, previous, activatedAt}
//   model / v#<ver>                    version metadata (state, clusters + page counts, summary)
//   v#<ver>#c#<cluster> / p#<page>     ranked list page: ≤ PAGE_SIZE (movieId, count) pairs, base36 packed;
//                                      page 0 also: size s, the cluster's typical movies t; CL-EASE: the local
//                                      matrix's movies e (base36, its order), the matrix b (binary, float32
//                                      little-endian) and the version's serving settings bt (β) and hl (half-life)
//   v#<ver>#pop / p#<page>             global most-popular list pages
//   v#<ver>#d#<cluster|pop> / s#<n>    favourite counters (delta over the base list), one attribute per movie;
//                                      `sz` counts users the API added to the cluster (its size delta)
//   v#<ver>#d#<cluster|pop> / o#<movie>  a movie's counter when its s#<n> item is full (400 KB); readers sum both
//   v#<ver>#manifest / u#<page>        ids of the version's users (to delete the version later)
//   v#<ver>#manifest / new#<user>      users created by the API in this version
//   v#<ver>#manifest / sim#p#<page>    ids of the movies with a similar-movies item (to delete them later)
//   v#<ver>#sim#<movie> / s            the movie's similar movies: ids `m` (base36), scores `w` (decimals)
//   movies / active, movies#<cat> / p#<page>   the movie catalogue (titles, genres), version-independent
//   lease / training                   single-flight training: {holder, leaseUntil (ms)}; deleted when released
// users table
//   v#<ver>#u#<user> / u#<shard>       user: cluster c, movies m (ascending, delta-base36), favourites f (number set)
//                                      and g (list: the order they were added); taste model: mix clusters x (base36)
//                                      and weights w (shortest round-trip decimals); CL-EASE with recency: the
//                                      newest movies r (base36, oldest first)
//   fav#<user mod 16> / u#<user>#m#<movie>     durable favourite record, version-independent

export const PAGE_SIZE = 2000;
export const USER_SHARD_MOVIES = 20000;
export const MANIFEST_PAGE_USERS = 10000;
export const MOVIES_PAGE_SIZE = 500;
/** movie ids per manifest page of similar-movies items */
export const MANIFEST_PAGE_MOVIES = 10000;
/** Counter items per cluster (movieId mod 4). A taste user's ≤ 15 mix clusters × 4 keys fit one BatchGetItem
 * (≤ 100 keys); 4 items hold ~80k distinct movies before a movie spills to its own overflow item. Changing it
 * would move the counters of versions already published (their readers compute keys with it). */
export const DELTA_SHARDS = 4;
/** BatchGetItem's limit on keys per request. */
export const BATCH_GET_KEYS = 100;
/** A counter item estimated this large may be full, so some of its movies may sit in overflow items that a
 * BatchGetItem cannot name: the reader queries that cluster's counter partition instead. */
export const FULL_SHARD_BYTES = 300_000;
export const FAV_SHARDS = 16;

const pad = (n: number) => String(n).padStart(5, '0');

export const keys = {
  pointer: () => ({ pk: 'model', sk: 'active' }),
  meta: (v: string) => ({ pk: 'model', sk: `v#${v}` }),
  clusterPk: (v: string, c: number) => `v#${v}#c#${c}`,
  popularPk: (v: string) => `v#${v}#pop`,
  page: (p: number) => `p#${pad(p)}`,
  deltaPk: (v: string, c: number | 'pop') => `v#${v}#d#${c}`,
  deltaSk: (movieId: number) => `s#${movieId % DELTA_SHARDS}`,
  deltaAttr: (movieId: number) => `m${movieId}`,
  /** users the API added to the cluster in this version (taste scores divide by the cluster's size) */
  sizeDeltaAttr: () => 'sz',
  /** a movie's own counter item, used once its shard item is full (400 KB): o#<movieId>, attribute m<movieId> */
  deltaOverflowSk: (movieId: number) => `o#${movieId}`,
  manifestPk: (v: string) => `v#${v}#manifest`,
  similarManifestSk: (p: number) => `sim#p#${pad(p)}`,
  /** one item per movie: its similar movies in this version (one GetItem per request) */
  similar: (v: string, movieId: number) => ({ pk: `v#${v}#sim#${movieId}`, sk: 's' }),
  userPk: (v: string, u: number) => `v#${v}#u#${u}`,
  userSk: (shard: number) => `u#${pad(shard)}`,
  fav: (u: number, m: number) => ({ pk: `fav#${u % FAV_SHARDS}`, sk: `u#${u}#m#${m}` }),
  favPk: (shard: number) => `fav#${shard}`,
  moviesPointer: () => ({ pk: 'movies', sk: 'active' }),
  lease: () => ({ pk: 'lease', sk: 'training' }),
  moviesPk: (cat: string) => `movies#${cat}`,
};

// ---------------------------------------------------------------------------------------------
// packing: non-negative integers as base36, comma separated

export function packInts(xs: ArrayLike<number>, from = 0, to = xs.length): string {
  const parts: string[] = new Array(Math.max(0, to - from));
  for (let i = from; i < to; i++) parts[i - from] = xs[i].toString(36);
  return parts.join(',');
}

export function unpackInts(s: string | undefined): number[] {
  if (!s) return [];
  return s.split(',').map((p) => parseInt(p, 36));
}

/** Weights as shortest round-trip decimals (String(x) parses back to the identical double), comma separated. */
export function packFloats(xs: ArrayLike<number>): string {
  return Array.from(xs, (x) => String(x)).join(',');
}

export function unpackFloats(s: string | undefined): number[] {
  if (!s) return [];
  return s.split(',').map(Number);
}

/** Upper estimate of a DynamoDB item's size: names plus values as text (a number's stored size is about half
 * its digits), so a real 400 KB item is never estimated smaller than it is. */
export function estimateItemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [k, v] of Object.entries(item)) bytes += Buffer.byteLength(k) + Buffer.byteLength(String(v)) + 1;
  return bytes;
}

/** Ascending ids as base36 gaps (first value, then differences): ~2 bytes a movie for typical ids. */
export function packAscending(xs: ArrayLike<number>, from = 0, to = xs.length): string {
  const parts: string[] = new Array(Math.max(0, to - from));
  let prev = 0;
  for (let i = from; i < to; i++) {
    parts[i - from] = (xs[i] - prev).toString(36);
    prev = xs[i];
  }
  return parts.join(',');
}

export function unpackAscending(s: string | undefined): number[] {
  if (!s) return [];
  let prev = 0;
  return s.split(',').map((p) => (prev += parseInt(p, 36)));
}

/** Deterministic ordering key of a source object: event time (ms, ISO) then the S3 sequencer (same-key order). */
export function sourceOrderOf(ref: { eventTime?: string; sequencer?: string }, fallbackTime?: string): string {
  const t = ref.eventTime ?? fallbackTime;
  const iso = t && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : '0000-00-00T00:00:00.000Z';
  return `${iso}#${(ref.sequencer ?? '').toUpperCase().padStart(32, '0')}`;
}
