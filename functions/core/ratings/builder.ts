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

export class InteractionsBuilder {
  private users: Int32Array = new Int32Array(1 << 16);
  private movies: Int32Array = new Int32Array(1 << 16);
  private ratings: Float32Array | null;
  private timestamps: Float64Array | null;
  private n = 0;
  readonly userIndex = new IdIndex();
  readonly movieIndex = new IdIndex();

  rowsRead = 0;
  rowsRejected = 0;
  readonly rejectedByReason: Partial<Record<RejectReason, number>> = {};
  readonly examples: RejectExample[] = [];

  constructor(withRatings: boolean, withTimestamps: boolean) {
    this.ratings = withRatings ? new Float32Array(1 << 16) : null;
    this.timestamps = withTimestamps ? new Float64Array(1 << 16) : null;
  }

  get accepted(): number {
    return this.n;
  }

  /** An accepted row; `rating`/`timestamp` are NaN when absent. */
  add(user: number, movie: number, rating: number, timestamp: number): void {
    const n = this.n;
    if (n === this.users.length) this.grow();
    this.users[n] = this.userIndex.index(user);
    this.movies[n] = this.movieIndex.index(movie);
    if (this.ratings !== null) this.ratings[n] = rating;
    if (this.timestamps !== null) this.timestamps[n] = timestamp;
    this.n = n + 1;
    this.rowsRead++;
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
    const n = this.n;
    // Trim by copying only when more than 10% would be wasted; else hand out views.
    const copy = n < 0.9 * this.users.length;
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
