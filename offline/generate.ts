// Deterministic synthetic MovieLens ratings (`userId,movieId,rating,timestamp`) with planted taste
// clusters, Zipf-like movie popularity and heavy-tailed user activity (≥ 5 distinct movies per user).
// Same options ⇒ identical bytes on any machine: an own 32-bit PRNG (mulberry32) and only IEEE-exact
// arithmetic (+ − × ÷ √, no Math.exp/log/pow whose last bits may vary). Streams its output in 1 MiB
// buffers, so 25M rows never sit in memory; the caller ends the stream.
import { once } from 'node:events';
import { InputError } from '../functions/core/types';

export interface GenerateOptions {
  users: number;
  movies: number;
  /** total rows written (exactly) */
  ratings: number;
  /** planted taste clusters (default 8) */
  clusters?: number;
  seed: number;
}

/** Share of a user's picks taken from the own cluster's movies (the rest: global popularity). */
export const IN_CLUSTER_SHARE = 0.75;
export const MIN_PER_USER = 5;
const T0 = 946684800; // 2000-01-01
const SPAN = 15 * 365 * 86400;
const HEADER = 'userId,movieId,rating,timestamp\n';
const BUF_SIZE = 1 << 20;

/** 32-bit avalanche mix of two words (murmur3 finaliser). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function seedWord(seed: number, salt: number): number {
  return mix(mix(seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0), salt);
}

/** mulberry32: returns a function giving uniform doubles in [0, 1) (multiples of 2^-32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type ClusterOptions = Pick<GenerateOptions, 'seed' | 'clusters'> & { movies?: number };

/** Clusters asked for, else 8 (or one per movie when there are fewer than 8 movies). */
export function clusterCount(opts: ClusterOptions): number {
  return opts.clusters ?? Math.min(8, opts.movies ?? 8);
}

/** The planted taste cluster (0-based) of a generated user. */
export function plantedCluster(userId: number, opts: ClusterOptions): number {
  return mix(seedWord(opts.seed, 0x5eed0001), userId) % clusterCount(opts);
}

/** The cluster whose users prefer this generated movie (0-based). */
export function movieCluster(movieId: number, opts: ClusterOptions): number {
  const c = clusterCount(opts);
  return (movieId - 1 + (seedWord(opts.seed, 0x5eed0002) % c)) % c;
}

function validate(o: GenerateOptions): Required<GenerateOptions> {
  const clusters = clusterCount(o);
  const int = (v: number, name: string, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new InputError('bad_option', `generate: ${name} must be an integer ≥ ${min} (got ${v}).`);
  };
  int(o.users, 'users', 1);
  int(o.movies, 'movies', MIN_PER_USER);
  int(o.ratings, 'ratings', 1);
  int(clusters, 'clusters', 1);
  int(o.seed, 'seed', 0);
  if (clusters > o.movies) throw new InputError('bad_option', `generate: clusters (${clusters}) cannot exceed movies (${o.movies}).`);
  if (o.ratings < MIN_PER_USER * o.users) {
    throw new InputError('bad_option', `generate: ${o.ratings} ratings cannot give each of ${o.users} users ≥ ${MIN_PER_USER} movies; ask for at least ${MIN_PER_USER * o.users} ratings or fewer users.`);
  }
  if (o.ratings > o.users * o.movies) {
    throw new InputError('bad_option', `generate: ${o.ratings} ratings exceed ${o.users} users × ${o.movies} movies (each pair at most once).`);
  }
  return { ...o, clusters };
}

/** Rows per user: ≥ 5 each, the rest spread by heavy-tailed weights (Pareto α=2: 1/√U), capped at
 * the number of movies, summing exactly to `ratings`. */
export function userActivity(o: GenerateOptions): Int32Array {
  const { users, movies, ratings } = validate(o);
  const rng = mulberry32(seedWord(o.seed, 0x5eed0003));
  const w = new Float64Array(users);
  let total = 0;
  for (let u = 0; u < users; u++) {
    w[u] = 1 / Math.sqrt(1 - rng()); // in [1, 65536]
    total += w[u];
  }
  const extra = ratings - MIN_PER_USER * users;
  const n = new Int32Array(users);
  let assigned = 0;
  for (let u = 0; u < users; u++) {
    n[u] = Math.min(movies, MIN_PER_USER + Math.floor((extra * w[u]) / total));
    assigned += n[u];
  }
  // Hand out what rounding and capping left, one row at a time per round, to users below the cap.
  let left = ratings - assigned;
  for (let start = 0; left > 0; start++) {
    let room = 0;
    for (let u = 0; u < users && left > 0; u++) {
      const v = (u + start) % users;
      if (n[v] < movies) {
        const add = Math.min(movies - n[v], Math.max(1, Math.floor(left / users)));
        n[v] += add;
        left -= add;
        room++;
      }
    }
    if (room === 0) break; // cannot happen: ratings ≤ users × movies
  }
  return n;
}

class ByteWriter {
  private buf = Buffer.allocUnsafe(BUF_SIZE);
  private len = 0;
  constructor(private readonly out: NodeJS.WritableStream) {}

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  uint(v: number): void {
    if (v < 10) {
      this.buf[this.len++] = 48 + v;
      return;
    }
    let digits = 0;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++;
    let p = this.len + digits;
    this.len = p;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) this.buf[--p] = 48 + (t % 10);
  }

  byte(b: number): void {
    this.buf[this.len++] = b;
  }

  /** true when fewer than 256 bytes are free: time to flush (one row is < 100 bytes) */
  full(): boolean {
    return BUF_SIZE - this.len < 256;
  }

  /** Writes the buffer out, waiting for 'drain' when the stream asks. */
  async flush(): Promise<void> {
    if (this.len === 0) return;
    const chunk = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(BUF_SIZE);
    this.len = 0;
    if (!this.out.write(chunk)) await once(this.out as unknown as NodeJS.EventEmitter, 'drain');
  }
}

/** Writes the CSV (header first) to `out`; does not end it. */
export async function generateRatings(opts: GenerateOptions, out: NodeJS.WritableStream): Promise<void> {
  const o = validate(opts);
  const { users, movies, clusters, seed } = o;
  const counts = userActivity(o);

  // Movies: random popularity ranks (Zipf-like weight 1/(rank + 10)), a per-movie quality, a home
  // cluster; cumulative weights globally and per cluster for sampling by binary search.
  const rng = mulberry32(seedWord(seed, 0x5eed0004));
  const rank = new Int32Array(movies);
  for (let i = 0; i < movies; i++) rank[i] = i;
  for (let i = movies - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = rank[i];
    rank[i] = rank[j];
    rank[j] = t;
  }
  const quality = new Float64Array(movies);
  for (let i = 0; i < movies; i++) quality[i] = rng() - 0.5;
  const home = new Int32Array(movies);
  for (let i = 0; i < movies; i++) home[i] = movieCluster(i + 1, o);
  const globalCdf = new Float64Array(movies);
  let acc = 0;
  for (let i = 0; i < movies; i++) globalCdf[i] = acc += 1 / (rank[i] + 10);
  const clusterMovies: Int32Array[] = [];
  const clusterCdf: Float64Array[] = [];
  for (let c = 0; c < clusters; c++) {
    const list: number[] = [];
    for (let i = 0; i < movies; i++) if (home[i] === c) list.push(i);
    const cdf = new Float64Array(list.length);
    let a = 0;
    list.forEach((m, k) => (cdf[k] = a += 1 / (rank[m] + 10)));
    clusterMovies.push(Int32Array.from(list));
    clusterCdf.push(cdf);
  }

  const w = new ByteWriter(out);
  w.ascii(HEADER);
  const seen = new Int32Array(movies); // seen[m] === u + 1 when user u already has movie m
  const ratingText = Array.from({ length: 10 }, (_, i) => ((i + 1) / 2).toFixed(1));
  for (let u = 0; u < users; u++) {
    const userId = u + 1;
    const r = mulberry32(seedWord(seed, mix(0x5eed0005, userId)));
    const c = plantedCluster(userId, o);
    const own = clusterMovies[c];
    const ownCdf = clusterCdf[c];
    const bias = (r() + r() + r() - 1.5) * 0.6;
    let t = T0 + Math.floor(r() * SPAN);
    const n = counts[u];
    let attempts = 64; // drops once this user has taken most of the likely movies
    for (let j = 0; j < n; j++) {
      let m = -1;
      for (let attempt = 0; attempt < attempts && m < 0; attempt++) {
        const cand =
          own.length > 0 && r() < IN_CLUSTER_SHARE
            ? own[search(ownCdf, r() * ownCdf[ownCdf.length - 1])]
            : search(globalCdf, r() * globalCdf[movies - 1]);
        if (seen[cand] !== userId) m = cand;
      }
      if (m < 0) {
        // Nearly every likely movie is taken: the next unseen movie from a random start.
        m = Math.floor(r() * movies);
        while (seen[m] === userId) m = (m + 1) % movies;
        attempts = 4;
      }
      seen[m] = userId;
      const noise = (r() + r() + r() - 1.5) * 0.9;
      const mu = 3.4 + (home[m] === c ? 0.6 : -0.4) + bias + quality[m] + noise;
      const half = Math.min(10, Math.max(1, Math.round(mu * 2)));
      t += 1 + Math.floor(60 / Math.sqrt(1 - r()));
      w.uint(userId);
      w.byte(44);
      w.uint(m + 1);
      w.byte(44);
      w.ascii(ratingText[half - 1]);
      w.byte(44);
      w.uint(t);
      w.byte(10);
      if (w.full()) await w.flush();
    }
  }
  await w.flush();
}

/** First index whose cumulative weight exceeds x. */
function search(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** MovieLens' genres (movies.csv), in the order generated catalogues draw them. */
export const MOVIELENS_GENRES = [
  'Action', 'Adventure', 'Animation', 'Children', 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir',
  'Horror', 'IMAX', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
] as const;

/**
 * A movies.csv (`movieId,title,genres`) for generated ratings: movies 1..movies, titles `Movie <id> (<year>)`
 * (quoted every 7th, with a comma, as MovieLens quotes some), 1–3 genres each — the first one tied to the
 * movie's planted cluster, so genre filters cut along the planted tastes — and some without genres. Same
 * options ⇒ same text.
 */
export function generateMovies(opts: Pick<GenerateOptions, 'movies' | 'seed' | 'clusters'>): string {
  const rng = mulberry32(seedWord(opts.seed, 0x5eed0004));
  const lines = ['movieId,title,genres'];
  for (let m = 1; m <= opts.movies; m++) {
    const year = 1950 + Math.floor(rng() * 70);
    const title = m % 7 === 0 ? `"Movie ${m}, The (${year})"` : `Movie ${m} (${year})`;
    const genres = new Set<string>();
    if (rng() < 0.03) {
      lines.push(`${m},${title},(no genres listed)`);
      continue;
    }
    genres.add(MOVIELENS_GENRES[(movieCluster(m, { ...opts, movies: opts.movies }) * 3) % MOVIELENS_GENRES.length]);
    const more = Math.floor(rng() * 3);
    for (let i = 0; i < more; i++) genres.add(MOVIELENS_GENRES[Math.floor(rng() * MOVIELENS_GENRES.length)]);
    lines.push(`${m},${title},${[...genres].join('|')}`);
  }
  return lines.join('\n') + '\n';
}
