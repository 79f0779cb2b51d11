// The engine's memory and state: constants fixed for bit-identical results, one arena of typed arrays per
// call (living in a shared WebAssembly memory on the SIMD path, reused across calls), the compiled SIMD
// module, and the main thread's own state.
import { CsrMatrix } from '../types';
import type { KernelState } from './kernels';
import { SIMD_WASM_BASE64 } from './simd-wasm';

/** Rows per kernel block. Fixed (never derived from the thread count) so results do not depend on it. */
export const BLOCK_SIZE = 256;
/** Below this many non-zeros, starting worker threads costs more than it saves. */
export const SMALL_NNZ = 1_000_000;
export const MAX_DEFAULT_THREADS = 8;
/** The kernels track groups of 4 centres in a 31-bit mask. */
export const MAX_K = 124;
/** Ranges the range ops split rows or columns into (fixed: results never depend on the thread count). */
export const RANGES = 8;
export type TypedCtor<T> = { new (buf: ArrayBufferLike, offset?: number, length?: number): T; BYTES_PER_ELEMENT: number };
/**
 * Where the kernel state's arrays live. Scalar path: one (Shared)ArrayBuffer each. SIMD path: every
 * array is a view into one shared WebAssembly memory (so simd.wat can read the matrix and the centres
 * and worker threads share it), 64-byte aligned; the layout is measured by a first dry pass.
 */
export class Arena {
  bytes = 0;
  constructor(
    private readonly mode: 'measure' | 'wasm' | 'plain',
    private readonly shared: boolean,
    private readonly buffer: ArrayBufferLike | null = null,
  ) {}

  alloc<T>(ctor: TypedCtor<T>, length: number): T {
    const bytes = Math.max(1, length) * ctor.BYTES_PER_ELEMENT;
    if (this.mode === 'plain') return new ctor(this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), 0, length);
    const at = Math.ceil(this.bytes / 64) * 64;
    this.bytes = at + bytes;
    // measuring: a placeholder with the right type (never read)
    if (this.mode === 'measure') return new ctor(new ArrayBuffer(0), 0, 0);
    return new ctor(this.buffer as ArrayBufferLike, at, length);
  }

  /** `a` itself when it can be used as is, else a copy in this arena */
  adopt<T extends Int32Array | Float64Array>(a: T, ctor: TypedCtor<T>): T {
    if (this.mode === 'plain' && (!this.shared || a.buffer instanceof SharedArrayBuffer)) return a;
    const out = this.alloc(ctor, a.length);
    if (this.mode !== 'measure') (out as Int32Array | Float64Array).set(a);
    return out;
  }
}
/** Largest WebAssembly memory (wasm32: 65,536 pages of 64 KiB). */
const WASM_MAX_PAGES = 65_536;
let simdModule: WebAssembly.Module | null | undefined;
/** simd.wat compiled once per process; null when this runtime lacks WebAssembly SIMD or threads. */
function simd(): WebAssembly.Module | null {
  if (simdModule === undefined) {
    try {
      simdModule = new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
      // shared memories need the threads proposal; a runtime without it fails here, not mid-run
      new WebAssembly.Instance(simdModule, { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }) } });
    } catch {
      simdModule = null;
    }
  }
  return simdModule;
}
/** The SIMD kernels are used unless opts.simd is false, MOVIEREC_KMEANS_SIMD=0, the runtime lacks
 * them, or the state would not fit in one WebAssembly memory; both paths give identical results. */
export function simdAvailable(): boolean {
  return simd() !== null;
}
export function allocState(x: CsrMatrix, k: number, threads: number, useSimd: boolean): KernelState {
  const shared = threads > 1;
  const module = useSimd ? simd() : null;
  if (module !== null) {
    const m = new Arena('measure', true);
    layoutState(x, k, threads, m);
    const pages = Math.ceil(m.bytes / 65_536) + 1;
    const memory = acquireMemory(pages, m.bytes);
    if (memory !== null) {
      const S = layoutState(x, k, threads, new Arena('wasm', true, memory.buffer));
      S.wasm = { memory, module };
      S.wx = new WebAssembly.Instance(module, { env: { mem: memory } }).exports as unknown as KernelState['wx'];
      return S;
    }
  }
  return layoutState(x, k, threads, new Arena('plain', shared));
}
/**
 * The engine keeps one growable WebAssembly memory and reuses it call after call, until
 * releaseEngineMemory(). A shared memory is freed only when the garbage collector finds it
 * unreachable, which it does not hurry to do for memory outside the JS heap: with a fresh memory per
 * call, the taste model's selection (dozens of clusterings) peaked at 698 MB on 1M ratings against
 * 380 MB on the scalar path. A call that finds it busy (two clusterings at once in one process) gets a
 * private exact-size memory. null ⇒ no memory this large could be had: the scalar path.
 */
let engineMemory: { memory: WebAssembly.Memory; busy: boolean; drop: boolean } | null = null;
/**
 * Lets the garbage collector have the engine's memory once the current call (if any) ends. Training
 * calls it right after its last clustering, so the memory does not sit under the phases after it (on
 * 25M ratings, keeping it raised the peak RSS of `movierec train` from 1.51 to 1.75 GB).
 */
export function releaseEngineMemory(): void {
  if (engineMemory === null) return;
  if (engineMemory.busy) engineMemory.drop = true;
  else engineMemory = null;
}
function acquireMemory(pages: number, bytes: number): WebAssembly.Memory | null {
  if (pages > WASM_MAX_PAGES) return null;
  try {
    if (engineMemory === null) {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: WASM_MAX_PAGES, shared: true });
      engineMemory = { memory, busy: true, drop: false };
      return memory;
    }
    if (!engineMemory.busy) {
      const { memory } = engineMemory;
      const have = memory.buffer.byteLength / 65_536;
      if (have < pages) memory.grow(pages - have);
      // every array starts zeroed, as a fresh buffer would be
      new Uint8Array(memory.buffer, 0, bytes).fill(0);
      engineMemory.busy = true;
      return memory;
    }
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null; // address space refused: the scalar path needs no single block
  }
}
export function releaseMemory(S: KernelState): void {
  if (engineMemory === null || S.wasm === null || S.wasm.memory !== engineMemory.memory) return;
  if (engineMemory.drop) engineMemory = null;
  else engineMemory.busy = false;
}
function layoutState(x: CsrMatrix, k: number, threads: number, A: Arena): KernelState {
  const n = x.nRows;
  const d = x.nCols;
  const nnz = x.indptr[n];
  const tMax = 2 + Math.floor(Math.log(k));
  const kp = Math.ceil(k / 4) * 4;
  const nBlocks = Math.ceil(n / BLOCK_SIZE);
  const indptr = A.adopt(x.indptr, Int32Array);
  const indices = A.adopt(x.indices.length === nnz ? x.indices : x.indices.subarray(0, nnz), Int32Array);
  const values =
    x.values === null ? null : A.adopt(x.values.length === nnz ? x.values : x.values.subarray(0, nnz), Float64Array);
  const outStride = Math.max(4, tMax);
  const alloc = <T>(ctor: TypedCtor<T>, length: number): T => A.alloc(ctor, length);
  return {
    n,
    d,
    k,
    kp,
    blockSize: BLOCK_SIZE,
    nBlocks,
    indptr,
    indices,
    values,
    xnorm: alloc(Float64Array, n), // set by the transpose's count op
    labels: alloc(Int32Array, n),
    upper: alloc(Float64Array, n),
    lower: alloc(Float64Array, n * k),
    ct: alloc(Float64Array, d * kp),
    cnorm: alloc(Float64Array, k),
    half: alloc(Float64Array, k * k),
    sHalf: alloc(Float64Array, k),
    shift: alloc(Float64Array, k),
    cscPtr: alloc(Int32Array, d + 1),
    cscRows: alloc(Int32Array, nnz),
    cscVals: values === null ? null : alloc(Float64Array, nnz),
    candRows: alloc(Int32Array, tMax),
    candNorm: alloc(Float64Array, tMax),
    tMax,
    candDot: alloc(Float64Array, tMax * n),
    nRanges: RANGES,
    rangeRows: rangeRows(x.indptr, n, RANGES),
    cscNext: alloc(Int32Array, RANGES * d),
    inv: alloc(Float64Array, kp),
    centrePart: alloc(Float64Array, RANGES * 2 * kp),
    gramPart: alloc(Float64Array, RANGES * k * k),
    closest: alloc(Float64Array, n),
    candDist: alloc(Float64Array, tMax * n),
    sumT: alloc(Float64Array, d * kp),
    prev: alloc(Int32Array, n),
    nColRanges: threads,
    out: alloc(Float64Array, nBlocks * outStride),
    outStride,
    counter: alloc(Int32Array, 1),
    wasm: null,
    accs: alloc(Float64Array, nBlocks * kp),
  };
}
/** R + 1 row boundaries splitting the non-zeros into R ranges of about equal size. */
function rangeRows(indptr: Int32Array, n: number, R: number): Int32Array {
  const out = new Int32Array(R + 1);
  const nnz = indptr[n];
  for (let r = 1; r < R; r++) {
    const target = Math.floor((r * nnz) / R);
    let lo = out[r - 1];
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (indptr[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    out[r] = lo;
  }
  out[R] = n;
  return out;
}
/** State only the main thread touches: cluster sizes, the k-means++ cumulative sums. */
export class MainState {
  readonly counts: Float64Array;
  readonly cum: Float64Array;
  /** max centre shift accumulated since the centre distances were last computed exactly */
  drift = 0;
  constructor(S: KernelState) {
    this.counts = new Float64Array(S.k);
    this.cum = new Float64Array(S.n);
  }
}
/** Sum of out[b*stride + col] over blocks, in block order. */
export function blockSum(S: KernelState, col: number): number {
  let s = 0;
  for (let b = 0; b < S.nBlocks; b++) s += S.out[b * S.outStride + col];
  return s;
}
