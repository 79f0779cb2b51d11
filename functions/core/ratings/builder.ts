// Accumulates accepted rows into growable typed arrays (raw ids → dense indices in first-appearance
// order) and rejected rows into the data-quality counters. Both parsing paths write into one builder.
import type { Interactions, RejectExample, RejectReason } from '../types';
import { exampleText } from './fields';

/** Ids below this use a direct lookup table (≤ 16 MB); larger ids go through a Map. */
const DIRECT_LIMIT = 1 << 22;
const MAX_EXAMPLES = 5;

/** Raw numeric id → dense index, in first-appearance order. */
export class IdIndex {
  readonly ids: number[] = [];
  private direct = new Int32Array(1024); // id → index + 1 (0 = unseen)
  private map = new Map<number, number>();
  private lastId = -1;
  private lastIndex = -1;

  index(id: number): number {
    if (id === this.lastId) return this.lastIndex;
    let idx: number;
    if (id < DIRECT_LIMIT) {
      if (id >= this.direct.length) this.growDirect(id);
      idx = this.direct[id] - 1;
      if (idx < 0) {
        idx = this.ids.push(id) - 1;
        this.direct[id] = idx + 1;
      }
    } else {
      const found = this.map.get(id);
      if (found === undefined) {
        idx = this.ids.push(id) - 1;
        this.map.set(id, idx);
      } else idx = found;
    }
    this.lastId = id;
    this.lastIndex = idx;
    return idx;
  }

  private growDirect(id: number): void {
    let size = this.direct.length;
    while (size <= id) size *= 2;
    const next = new Int32Array(Math.min(size, DIRECT_LIMIT));
    next.set(this.direct);
    this.direct = next;
  }
}

/** Counts of what a builder holds, for a memory bound that follows the data, not the row count. */
export interface DataShape {
  /** distinct (user, movie) pairs (or rows, when duplicates are kept) */
  pairs: number;
  users: number;
  movies: number;
}

export interface BuilderOptions {
  withRatings: boolean;
  withTimestamps: boolean;
  /** keep each (user, movie) pair once (first row's rating, earliest timestamp): memory then follows the
   * distinct pairs, so a file repeating one row a billion times holds one */
  collapse?: boolean;
  /** called every CHECK_EVERY new pairs and by finish(); throws to stop reading (a memory bound) */
  check?: (shape: DataShape) => void;
}

/** How often (in new pairs) the memory bound is consulted: a 64k-pair overshoot is at most a few MB. */
export const CHECK_EVERY = 1 << 16;

export class InteractionsBuilder {
  private users: Int32Array = new Int32Array(1 << 16);
  private movies: Int32Array = new Int32Array(1 << 16);
  private ratings: Float32Array | null;
  private timestamps: Float64Array | null;
  /** rows (pairs, when collapsing) stored */
  private n = 0;
  readonly userIndex = new IdIndex();
  readonly movieIndex = new IdIndex();
  private readonly pairs: PairIndex | null;
  private readonly check: ((shape: DataShape) => void) | null;

  rowsRead = 0;
  rowsRejected = 0;
  /** accepted rows, duplicates included */
  accepted = 0;
  /** accepted rows that repeated a stored pair (collapse only) */
  duplicates = 0;
  readonly rejectedByReason: Partial<Record<RejectReason, number>> = {};
  readonly examples: RejectExample[] = [];

  constructor(opts: BuilderOptions) {
    this.ratings = opts.withRatings ? new Float32Array(1 << 16) : null;
    this.timestamps = opts.withTimestamps ? new Float64Array(1 << 16) : null;
    this.pairs = opts.collapse ? new PairIndex() : null;
    this.check = opts.check ?? null;
  }

  get shape(): DataShape {
    return { pairs: this.n, users: this.userIndex.ids.length, movies: this.movieIndex.ids.length };
  }

  /** An accepted row; `rating`/`timestamp` are NaN when absent. */
  add(user: number, movie: number, rating: number, timestamp: number): void {
    this.rowsRead++;
    this.accepted++;
    const usersBefore = this.userIndex.ids.length;
    const u = this.userIndex.index(user);
    const m = this.movieIndex.index(movie);
    const n = this.n;
    if (this.pairs !== null) {
      const at = this.pairs.find(u, m, u === usersBefore, this.users, this.movies, n);
      if (at >= 0) {
        this.duplicates++;
        // the earliest timestamp stands for the pair (as cellTimes takes it); a row without one poisons it,
        // so "some row has no timestamp" is still seen downstream
        const ts = this.timestamps;
        if (ts !== null) {
          const cur = ts[at];
          if (!Number.isFinite(timestamp) || !Number.isFinite(cur)) ts[at] = NaN;
          else if (timestamp < cur) ts[at] = timestamp;
        }
        return;
      }
    }
    if (n === this.users.length) this.grow();
    this.users[n] = u;
    this.movies[n] = m;
    if (this.ratings !== null) this.ratings[n] = rating;
    if (this.timestamps !== null) this.timestamps[n] = timestamp;
    this.n = n + 1;
    if (this.pairs !== null) this.pairs.added(u, m, n, this.users, this.movies);
    if (this.check !== null && (n + 1) % CHECK_EVERY === 0) this.check(this.shape);
  }

  /** A rejected row; `text` is already cut to example size by the caller (see exampleText). */
  reject(reason: RejectReason, line: number, text: string): void {
    this.rowsRead++;
    this.rowsRejected++;
    this.rejectedByReason[reason] = (this.rejectedByReason[reason] ?? 0) + 1;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ line, reason, text });
  }

  rejectBytes(reason: RejectReason, line: number, buf: Buffer, start: number, end: number): void {
    this.reject(reason, line, this.examples.length < MAX_EXAMPLES ? exampleText(buf, start, end) : '');
  }

  /** Pre-sizes the arrays for about `rows` rows (an estimate from the file size), so a large file
   * needs neither the doubling copies nor a final trim. */
  reserve(rows: number): void {
    const cap = Math.ceil(rows);
    if (cap > this.users.length && cap < 2 ** 31) this.resize(cap);
  }

  private grow(): void {
    this.resize(this.users.length * 2);
  }

  private resize(cap: number): void {
    this.users = growInt32(this.users, cap);
    this.movies = growInt32(this.movies, cap);
    if (this.ratings !== null) {
      const r = new Float32Array(cap);
      r.set(this.ratings);
      this.ratings = r;
    }
    if (this.timestamps !== null) {
      const t = new Float64Array(cap);
      t.set(this.timestamps);
      this.timestamps = t;
    }
  }

  finish(): Interactions {
    this.check?.(this.shape);
    this.pairs?.release();
    const n = this.n;
    // Hand out views unless more than half the capacity is unused: the unused tail of an array presized from
    // the file size (reserve: estimated from the first lines, which are often shorter than the rest) was
    // never written, so its pages were never resident; a copy costs time (0.4-0.7 s for 25M rows with
    // timestamps) and, while old and new both exist, memory.
    const copy = n < 0.5 * this.users.length;
    const cut = <T extends Int32Array | Float32Array | Float64Array>(a: T): T => (copy ? a.slice(0, n) : a.subarray(0, n)) as T;
    const out: Interactions = {
      userIds: this.userIndex.ids,
      movieIds: this.movieIndex.ids,
      users: cut(this.users),
      movies: cut(this.movies),
      length: n,
    };
    if (this.timestamps !== null) out.timestamps = cut(this.timestamps);
    if (this.ratings !== null) out.ratings = cut(this.ratings);
    return out;
  }
}

function growInt32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/**
 * Finds the stored row of a (user, movie) pair, cheaply for the files that exist. Ratings files group a
 * user's rows together (MovieLens, the generator, most exports): while every user's rows come in one run,
 * a duplicate can only repeat a movie of the current run, which one stamp per movie index finds (4 + 4 bytes
 * per distinct movie). The first user who comes back after another user switches, once, to an open-addressing
 * hash table over all stored rows (4 bytes a slot, at most half full: ≤ 16 bytes per pair while it grows).
 * Hand-written rather than a Map: a Map of 25M keys costs ~80 bytes each and boxes every key.
 */
class PairIndex {
  // run mode
  private runUser = -1;
  private run = 0;
  private stamp = new Int32Array(1024);
  private rowOf = new Int32Array(1024);
  // hash mode (null until a user's rows are found split)
  private table: Int32Array | null = null;
  private count = 0;

  /** the row holding (u, m), or -1; `newUser`: u was first seen on this row */
  find(u: number, m: number, newUser: boolean, users: Int32Array, movies: Int32Array, n: number): number {
    if (this.table === null) {
      if (u !== this.runUser) {
        if (!newUser) {
          this.buildTable(users, movies, n);
          return this.lookup(u, m, users, movies);
        }
        this.runUser = u;
        this.run++;
        return -1;
      }
      return m < this.stamp.length && this.stamp[m] === this.run ? this.rowOf[m] : -1;
    }
    return this.lookup(u, m, users, movies);
  }

  /** row `row` now holds (u, m) */
  added(u: number, m: number, row: number, users: Int32Array, movies: Int32Array): void {
    if (this.table === null) {
      if (m >= this.stamp.length) {
        let size = this.stamp.length;
        while (size <= m) size *= 2;
        const s = new Int32Array(size);
        s.set(this.stamp);
        this.stamp = s;
        const r = new Int32Array(size);
        r.set(this.rowOf);
        this.rowOf = r;
      }
      this.stamp[m] = this.run;
      this.rowOf[m] = row;
      return;
    }
    if (2 * (this.count + 1) > this.table.length) this.rehash(this.table.length * 2, users, movies, row);
    this.insert(u, m, row);
  }

  release(): void {
    this.table = null;
    this.stamp = new Int32Array(0);
    this.rowOf = new Int32Array(0);
  }

  private buildTable(users: Int32Array, movies: Int32Array, n: number): void {
    let size = 1024;
    while (size < 2 * (n + 1)) size *= 2;
    this.rehash(size, users, movies, n);
    this.stamp = new Int32Array(0);
    this.rowOf = new Int32Array(0);
  }

  private rehash(size: number, users: Int32Array, movies: Int32Array, n: number): void {
    this.table = new Int32Array(size);
    this.count = 0;
    for (let r = 0; r < n; r++) this.insert(users[r], movies[r], r);
  }

  private slot(u: number, m: number): number {
    let h = Math.imul(u ^ Math.imul(m, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 13)) & (this.table!.length - 1);
  }

  private insert(u: number, m: number, row: number): void {
    const t = this.table!;
    const mask = t.length - 1;
    let i = this.slot(u, m);
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = row + 1;
    this.count++;
  }

  private lookup(u: number, m: number, users: Int32Array, movies: Int32Array): number {
    const t = this.table!;
    const mask = t.length - 1;
    for (let i = this.slot(u, m); t[i] !== 0; i = (i + 1) & mask) {
      const r = t[i] - 1;
      if (users[r] === u && movies[r] === m) return r;
    }
    return -1;
  }
}
