// The large-data path's passes over every user: dot products of each row with a few hundred dense centres
// (E clusterings × k), reduced at once to what the path keeps — the nearest centroid of each clustering
// (assign) or the `m` nearest cluster directions of each clustering by cosine (nearest). Rows are split into
// fixed blocks that the main thread and worker threads claim from a shared counter; each row's answer
// depends on that row alone, so the result is the same for any number of threads.
//
// The centres live transposed in groups of 16 ([group][column][16]), so adding a column's 16 values into a
// row's 16 accumulators (simd.wat m16/w16: out[row][c] += x_p · table[col_p · 16 + c], each product rounded
// before the add) makes 16 dot products at once. A block's non-zeros are taken in column order (a counting
// sort by column): every row still gets its own non-zeros in ascending p — the same sums, bit for bit, as
// summing row by row — while the block's rows share each table line, which a row-by-row walk fetched from
// memory once per row (the table is E·k/16 × columns × 128 bytes: 77 MB at 160 centres × 60k movies, so
// that walk was memory-bound). Without WebAssembly SIMD the kernel below makes the same sums in JavaScript
// in the same order (test/unit/personal.property.test.ts).
//
// passKernel is SELF-CONTAINED (it references only its parameters and globals): worker threads get it as
// source text, as the K-means engine's kernels (kmeans/kernels.ts, kmeans/pool.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SIMD_WASM_BASE64 } from '../kmeans/simd-wasm';
import { simdAvailable, MAX_DEFAULT_THREADS } from '../kmeans';
import type { SimdExports } from '../kmeans/kernels';
import { CsrMatrix } from '../types';
import type { Nearest } from './taste';

const GROUP = 16;
/** rows per block: enough that a block's rows share most table lines (each row's answer depends on that row
 * alone, so results depend neither on this nor on the thread count) */
export const BLOCK_ROWS = 2048;

/** Everything passKernel reads and writes; every array is shared with the worker threads. */
export interface PassState {
  n: number;
  d: number;
  /** clusterings, centres per clustering, neighbours kept (nearest) */
  E: number;
  k: number;
  m: number;
  groups: number;
  blockRows: number;
  nBlocks: number;
  /** 0: nearest centroid (labels); 1: nearest directions (near, cos) */
  mode: number;
  indptr: Int32Array;
  indices: Int32Array;
  /** entries left out (assign: the held-out movies) */
  skip: Uint8Array | null;
  /** entry weights pow[age] (null: every entry weighs 1) */
  ages: Int32Array | null;
  pow: Float64Array | null;
  /** assign: ‖c‖² of every centre */
  cnorm: Float64Array;
  /** nearest: 1 for a live cluster */
  alive: Uint8Array;
  labels: Int32Array;
  near: Int32Array;
  cos: Float64Array;
  counter: Int32Array;
  /** [group][column][16] centre values; in the WebAssembly memory when wasm is set */
  table: Float64Array;
  /** per thread: byte offsets of its scratch ((column, row) pairs, their weights, the block's dot products
   * [group][row][16]) and its capacity in entries */
  scratch: Int32Array;
  scratchCap: number;
  wasm: { memory: WebAssembly.Memory; module: WebAssembly.Module } | null;
  wx?: SimdExports;
}

/** Claims blocks until none is left; thread `t` uses its own scratch. */
export function passKernel(S: PassState, t: number): void {
  const G = S.groups;
  const B = S.blockRows;
  const indptr = S.indptr;
  const indices = S.indices;
  const skip = S.skip;
  const ages = S.ages;
  const pow = S.pow;
  const wx = S.wx;
  const buf = S.wasm ? S.wasm.memory.buffer : null;
  const pairAt = S.scratch[t * 3];
  const valAt = S.scratch[t * 3 + 1];
  const outAt = S.scratch[t * 3 + 2];
  const cap = S.scratchCap;
  // pairs[2q] = column · 128 (its byte offset in a group), pairs[2q + 1] = row in block · 128
  const pairs = buf ? new Int32Array(buf, pairAt, 2 * cap) : new Int32Array(2 * cap);
  const val = buf ? new Float64Array(buf, valAt, cap) : new Float64Array(cap);
  const out = buf ? new Float64Array(buf, outAt, B * G * 16) : new Float64Array(B * G * 16);
  const colStart = new Int32Array(S.d + 1);
  const rowN = new Int32Array(B);
  const rowNorm = new Float64Array(B);
  const top = new Int32Array(Math.max(1, S.m));
  const topV = new Float64Array(Math.max(1, S.m));
  const groupBytes = S.d * 16 * 8;
  for (;;) {
    const b = Atomics.add(S.counter, 0, 1);
    if (b >= S.nBlocks) break;
    const r0 = b * B;
    const r1 = Math.min(S.n, r0 + B);
    const nr = r1 - r0;
    // the block's kept non-zeros counted by column, then placed in column order (rows ascending within one)
    colStart.fill(0);
    for (let r = r0; r < r1; r++) {
      const i = r - r0;
      let n = 0;
      let ss = 0;
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        if (skip !== null && skip[p] === 1) continue;
        colStart[indices[p] + 1]++;
        const x = pow === null ? 1 : pow[ages![p]];
        ss += x * x;
        n++;
      }
      rowN[i] = n;
      rowNorm[i] = Math.sqrt(ss);
    }
    for (let c = 0; c < S.d; c++) colStart[c + 1] += colStart[c];
    const w = colStart[S.d];
    for (let r = r0; r < r1; r++) {
      const rowOff = (r - r0) * 128;
      for (let p = indptr[r]; p < indptr[r + 1]; p++) {
        if (skip !== null && skip[p] === 1) continue;
        const col = indices[p];
        const q = colStart[col]++;
        pairs[2 * q] = col * 128;
        pairs[2 * q + 1] = rowOff;
        if (pow !== null) val[q] = pow[ages![p]];
      }
    }
    // out[g][i][16]: group g's accumulators of the block's rows, from +0
    out.fill(0, 0, G * nr * 16);
    for (let g = 0; g < G; g++) {
      if (wx) {
        if (pow === null) wx.m16(pairAt, pairAt + w * 8, g * groupBytes, outAt + g * nr * 128);
        else wx.w16(pairAt, pairAt + w * 8, valAt, g * groupBytes, outAt + g * nr * 128);
      } else {
        const base = g * S.d * 16;
        const o0 = g * nr * 16;
        for (let q = 0; q < w; q++) {
          const at = base + (pairs[2 * q] >>> 3);
          const o = o0 + (pairs[2 * q + 1] >>> 3);
          if (pow === null) for (let c = 0; c < 16; c++) out[o + c] += S.table[at + c];
          else {
            const x = val[q];
            for (let c = 0; c < 16; c++) out[o + c] += x * S.table[at + c];
          }
        }
      }
    }
    // centre c of row i: out[((c >> 4) · nr + i) · 16 + (c & 15)]
    for (let r = r0; r < r1; r++) {
      const i = r - r0;
      if (S.mode === 0) {
        // nearest centroid of the (unit, binary) row: d² = ‖x‖² − 2 x·c + ‖c‖², ties → lowest index
        const n = rowN[i];
        const v = n > 0 ? 1 / Math.sqrt(n) : 0;
        const xn = n * v * v;
        for (let e = 0; e < S.E; e++) {
          let best = 0;
          let bestD2 = Infinity;
          for (let j = 0; j < S.k; j++) {
            const c = e * S.k + j;
            let d2 = xn - 2 * (v * out[((c >> 4) * nr + i) * 16 + (c & 15)]) + S.cnorm[c];
            if (d2 < 0) d2 = 0;
            if (d2 < bestD2) {
              bestD2 = d2;
              best = j;
            }
          }
          S.labels[e * S.n + r] = best;
        }
      } else {
        // the m live directions of highest cosine per clustering (cosine desc, then index asc)
        const inv = rowNorm[i] > 0 ? 1 / rowNorm[i] : 0;
        const m = S.m;
        for (let e = 0; e < S.E; e++) {
          let len = 0;
          for (let j = 0; j < S.k; j++) {
            const c = e * S.k + j;
            if (S.alive[c] === 0) continue;
            const cs = out[((c >> 4) * nr + i) * 16 + (c & 15)] * inv;
            if (len === m && !(cs > topV[m - 1])) continue;
            let at = len < m ? len++ : m - 1;
            while (at > 0 && topV[at - 1] < cs) {
              top[at] = top[at - 1];
              topV[at] = topV[at - 1];
              at--;
            }
            top[at] = c;
            topV[at] = cs;
          }
          for (let q = 0; q < m; q++) {
            S.near[(e * S.n + r) * m + q] = q < len ? top[q] : -1;
            S.cos[(e * S.n + r) * m + q] = q < len ? topV[q] : -Infinity;
          }
        }
      }
    }
  }
}

/** A worker's message loop (self-contained, shipped as source). */
export function passWorkerMain(port: import('node:worker_threads').MessagePort, run: typeof passKernel): void {
  let S: PassState | null = null;
  let t = 0;
  port.on('message', (msg: { type: string; state?: PassState; thread?: number }) => {
    if (msg.type === 'run') {
      S = msg.state as PassState;
      t = msg.thread as number;
      try {
        if (S.wasm !== null) S.wx = new WebAssembly.Instance(S.wasm.module, { env: { mem: S.wasm.memory } }).exports as unknown as SimdExports;
        run(S, t);
        port.postMessage({ type: 'done' });
      } catch (e) {
        port.postMessage({ type: 'error', message: String(e && (e as Error).stack ? (e as Error).stack : e) });
      }
    }
  });
}

function workerSource(): string {
  return [
    "'use strict';",
    "const { parentPort } = require('node:worker_threads');",
    `const passKernel = (${passKernel.toString()});`,
    `const passWorkerMain = (${passWorkerMain.toString()});`,
    'passWorkerMain(parentPort, passKernel);',
  ].join('\n');
}

const shared = <T extends Int32Array | Float64Array | Uint8Array>(ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, from: ArrayLike<number>): T => {
  const a = new ctor(new SharedArrayBuffer(Math.max(1, from.length) * ctor.BYTES_PER_ELEMENT));
  (a as unknown as { set(x: ArrayLike<number>): void }).set(from);
  return a;
};

/** The most non-zeros a block of `blockRows` consecutive rows of x holds (a CentreTable's scratch capacity). */
export function blockEntries(x: CsrMatrix, blockRows = BLOCK_ROWS): number {
  let m = 1;
  for (let r = 0; r < x.nRows; r += blockRows) m = Math.max(m, x.indptr[Math.min(x.nRows, r + blockRows)] - x.indptr[r]);
  return m;
}

/** The centres of E clusterings × k, and the passes over a matrix's rows against them. */
export class CentreTable {
  readonly groups: number;
  /** [group][column][16] */
  readonly table: Float64Array;
  private readonly wasm: { memory: WebAssembly.Memory; module: WebAssembly.Module } | null;
  private readonly scratch: Int32Array;
  readonly threads: number;
  readonly blockRows: number;

  /** `scratchCap`: the most non-zeros a block of `blockRows` rows of any matrix passed holds (blockEntries) */
  constructor(
    readonly nCols: number,
    readonly E: number,
    readonly k: number,
    private readonly scratchCap: number,
    opts: { simd?: boolean; threads?: number; blockRows?: number } = {},
  ) {
    const K = E * k;
    this.groups = Math.ceil(K / GROUP);
    this.threads = Math.max(1, opts.threads ?? Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
    this.blockRows = Math.max(1, opts.blockRows ?? BLOCK_ROWS);
    const tableBytes = this.groups * nCols * GROUP * 8;
    const perThread = [scratchCap * 8, scratchCap * 8, this.blockRows * this.groups * GROUP * 8].map((b) => Math.ceil(b / 64) * 64);
    const scratchBytes = perThread.reduce((a, b) => a + b, 0) * this.threads;
    this.scratch = new Int32Array(new SharedArrayBuffer(this.threads * 3 * 4));
    const pages = Math.ceil((tableBytes + scratchBytes + 128) / 65_536) + 1;
    if ((opts.simd ?? true) && simdAvailable() && pages <= 65_536) {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      this.wasm = { memory, module: new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64')) };
      this.table = new Float64Array(memory.buffer, 0, tableBytes / 8);
      let at = Math.ceil(tableBytes / 64) * 64;
      for (let t = 0; t < this.threads; t++) {
        for (let s = 0; s < 3; s++) {
          this.scratch[t * 3 + s] = at;
          at += perThread[s];
        }
      }
    } else {
      this.wasm = null;
      this.table = new Float64Array(new SharedArrayBuffer(tableBytes));
    }
  }

  get simd(): boolean {
    return this.wasm !== null;
  }

  /** Centre `c` (clustering ⌊c / k⌋)'s value at column `col`. */
  set(c: number, col: number, v: number): void {
    this.table[((c >> 4) * this.nCols + col) * GROUP + (c & 15)] = v;
  }

  /** Each row's (entries in `skip` left out, as a unit binary row) nearest centre of each clustering
   * (labels[e·n + r] = index within clustering e). */
  async assign(x: CsrMatrix, skip: Uint8Array | null, cnorm: Float64Array): Promise<Int32Array> {
    const S = this.state(x, 0, { skip, cnorm });
    await this.run(S);
    return S.labels;
  }

  /** Each row's `m` live centres of highest cosine per clustering; rows weighted pow[age] (binary when
   * null). Entries of a clustering with fewer live centres than m are left out. */
  async nearest(x: CsrMatrix, m: number, alive: Uint8Array, weights: { ages: Int32Array; pow: Float64Array } | null): Promise<Nearest[]> {
    const S = this.state(x, 1, { alive, m, ages: weights?.ages ?? null, pow: weights?.pow ?? null });
    await this.run(S);
    const out: Nearest[] = [];
    for (let e = 0; e < this.E; e++) {
      let live = 0;
      for (let j = 0; j < this.k; j++) live += alive[e * this.k + j];
      const mm = Math.min(m, live);
      const near = new Int32Array(x.nRows * mm);
      const cos = new Float64Array(x.nRows * mm);
      for (let r = 0; r < x.nRows; r++) {
        for (let q = 0; q < mm; q++) {
          near[r * mm + q] = S.near[(e * x.nRows + r) * m + q];
          cos[r * mm + q] = S.cos[(e * x.nRows + r) * m + q];
        }
      }
      out.push({ m: mm, near, cos });
    }
    return out;
  }

  private state(
    x: CsrMatrix,
    mode: number,
    o: { skip?: Uint8Array | null; cnorm?: Float64Array; alive?: Uint8Array; m?: number; ages?: Int32Array | null; pow?: Float64Array | null },
  ): PassState {
    const n = x.nRows;
    const nnz = x.indptr[n];
    const longest = blockEntries(x, this.blockRows);
    if (longest > this.scratchCap) throw new RangeError(`CentreTable: a block of ${longest} entries exceeds the scratch of ${this.scratchCap}`);
    const m = o.m ?? 0;
    const isShared = (a: ArrayLike<number>) => (a as Int32Array).buffer instanceof SharedArrayBuffer;
    return {
      n,
      d: this.nCols,
      E: this.E,
      k: this.k,
      m,
      groups: this.groups,
      blockRows: this.blockRows,
      nBlocks: Math.ceil(n / this.blockRows),
      mode,
      indptr: isShared(x.indptr) ? x.indptr : shared(Int32Array, x.indptr),
      indices: isShared(x.indices) ? x.indices.subarray(0, nnz) : shared(Int32Array, x.indices.subarray(0, nnz)),
      skip: o.skip ? (isShared(o.skip) ? o.skip : shared(Uint8Array, o.skip)) : null,
      ages: o.ages ? (isShared(o.ages) ? o.ages : shared(Int32Array, o.ages)) : null,
      pow: o.pow ? shared(Float64Array, o.pow) : null,
      cnorm: shared(Float64Array, o.cnorm ?? []),
      alive: shared(Uint8Array, o.alive ?? []),
      labels: new Int32Array(new SharedArrayBuffer(Math.max(1, mode === 0 ? this.E * n : 1) * 4)),
      near: new Int32Array(new SharedArrayBuffer(Math.max(1, mode === 1 ? this.E * n * m : 1) * 4)),
      cos: new Float64Array(new SharedArrayBuffer(Math.max(1, mode === 1 ? this.E * n * m : 1) * 8)),
      counter: new Int32Array(new SharedArrayBuffer(4)),
      table: this.table,
      scratch: this.scratch,
      scratchCap: this.scratchCap,
      wasm: this.wasm,
    };
  }

  /** The pass on the main thread and threads − 1 workers (only when there are blocks for them). */
  private async run(S: PassState): Promise<void> {
    const helpers = Math.min(this.threads, S.nBlocks) - 1;
    const workers: Worker[] = [];
    const done: Array<Promise<void>> = [];
    try {
      for (let w = 0; w < helpers; w++) {
        const worker = new Worker(workerSource(), { eval: true });
        workers.push(worker);
        done.push(
          new Promise<void>((resolve, reject) => {
            worker.on('message', (msg: { type: string; message?: string }) => (msg.type === 'done' ? resolve() : reject(new Error(`pass worker failed: ${msg.message}`))));
            worker.once('error', reject);
            worker.once('exit', (code) => code !== 0 && reject(new Error(`a pass worker exited with code ${code}`)));
          }),
        );
        worker.postMessage({ type: 'run', state: S, thread: w + 1 });
      }
      if (S.wasm !== null) S.wx = new WebAssembly.Instance(S.wasm.module, { env: { mem: S.wasm.memory } }).exports as unknown as SimdExports;
      passKernel(S, 0);
      await Promise.all(done);
    } finally {
      S.wx = undefined;
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
}
