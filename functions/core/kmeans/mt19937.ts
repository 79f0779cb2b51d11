// numpy's legacy `RandomState(seed)` — the Mersenne Twister MT19937 with numpy's seeding, its
// `random_sample()` (53-bit doubles) and `randint(n)` (masked rejection on 32-bit draws) — so that
// k-means++ draws exactly the numbers scikit-learn draws for `KMeans(random_state=seed)`. With the same
// matrix, the engine then starts from scikit-learn's centres (the seed project's `random_state=0`
// clusters, reproduced) and takes its iterations. Pure 32-bit integer arithmetic: the same stream on
// every machine. Reference values (numpy 1.24, checked in test/unit/kmeans-mt19937.test.ts):
// RandomState(0).random_sample() = 0.5488135039273248, RandomState(0).randint(160000) = 43567.

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;

  /** `seed`: an integer in [0, 2³²), as numpy's legacy seeding requires. */
  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new RangeError(`RandomState seed must be an integer between 0 and 2^32 - 1, got ${seed}`);
    }
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.key[i] = s;
      // 1812433253 * (s ^ (s >>> 30)) + i + 1, mod 2^32
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
    this.pos = N;
  }

  /** The generator's state (numpy's get_state: 624 words and a position), to continue the stream
   * elsewhere: a distributed training draws its k-means++ numbers in one step and the next in another. */
  getState(): { key: number[]; pos: number } {
    return { key: Array.from(this.key), pos: this.pos };
  }

  static fromState(state: { key: ArrayLike<number>; pos: number }): RandomState {
    if (state.key.length !== N || !(Number.isInteger(state.pos) && state.pos >= 0 && state.pos <= N)) {
      throw new RangeError('RandomState state must hold 624 words and a position between 0 and 624');
    }
    const rs = new RandomState(0);
    rs.key.set(Array.from(state.key, (v) => v >>> 0));
    rs.pos = state.pos;
    return rs;
  }

  private generate(): void {
    const k = this.key;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (k[i] & UPPER) | (k[i + 1] & LOWER);
      k[i] = k[i + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; i < N - 1; i++) {
      const y = (k[i] & UPPER) | (k[i + 1] & LOWER);
      k[i] = k[i + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    const y = (k[N - 1] & UPPER) | (k[0] & LOWER);
    k[N - 1] = k[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /** next 32-bit unsigned integer (genrand_int32) */
  nextUint32(): number {
    if (this.pos === N) this.generate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `random_sample()`: a double in [0, 1) from two draws (27 + 26 bits) */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** numpy legacy `randint(n)` for 1 ≤ n ≤ 2³²: masked rejection sampling on 32-bit draws. */
  randint(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 0x100000000)) {
      throw new RangeError(`randint bound must be an integer between 1 and 2^32, got ${n}`);
    }
    const rng = n - 1;
    if (rng === 0) return 0;
    if (rng === 0xffffffff) return this.nextUint32();
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= rng) return v;
    }
  }
}
