// The default K-means engine: sparse (CSR) Elkan K-means with greedy k-means++ seeding, written for
// speed and for bit-identical results given a seed, whatever the machine or the thread count. Seeding
// draws numpy's RandomState(seed) stream exactly as scikit-learn's KMeans(random_state=seed) does, so on
// the same matrix it starts from scikit-learn's centres.
//
// Design (see issue 7 and README.md in this folder):
// - k-means++ candidates are rows of the matrix, so their dot products with every row come from a CSC
//   copy (only rows sharing a movie with the candidate are touched), and the chosen centres' exact
//   distances double as the first assignment;
// - centres are stored transposed (movie × k, padded to groups of 4), so one pass over a row's
//   non-zeros yields its dot products with a group of centres: 16 at once in WebAssembly SIMD
//   (simd.wat; all arrays then live in one shared WebAssembly memory), or 4/8 in the scalar JavaScript
//   fallback, with bit-identical sums; ‖x‖² and ‖c‖² are precomputed, d² = ‖x‖² − 2x·c + ‖c‖²;
// - Elkan bounds (an upper bound per row, a lower bound per row and centre, half the centre-centre
//   distances) skip whole rows, and otherwise every group of centres they rule out;
// - centre sums are kept between iterations and only rows whose label changed update them, split by
//   column ranges across threads (each sum still gets its additions in row order);
// - the kernels run over fixed-size row blocks claimed from a shared counter by the main thread and
//   worker threads; every reduction is summed per block and then in block order.
import { availableParallelism } from 'node:os';
import { CsrMatrix, InputError, KMeansEngine, KMeansOptions, KMeansResult } from '../types';
import {
  KernelState,
  OP_ASSIGN,
  OP_ASSIGN_SEEDED,
  OP_CENTRES,
  OP_CSC_COUNT,
  OP_CSC_FILL,
  OP_GRAM,
  OP_INERTIA,
  OP_SEED,
  OP_SEED_DOT,
  OP_SUMS,
} from './kernels';
import { RandomState } from './mt19937';
import { SIMD_WASM_BASE64 } from './simd-wasm';
import { effectiveThreads, Executor, startExecutor } from './pool';

/** Rows per kernel block. Fixed (never derived from the thread count) so results do not depend on it. */
export const BLOCK_SIZE = 256;
/** Below this many non-zeros, starting worker threads costs more than it saves. */
export const SMALL_NNZ = 1_000_000;
export const MAX_DEFAULT_THREADS = 8;
/** The kernels track groups of 4 centres in a 31-bit mask. */
export const MAX_K = 124;
/** Ranges the range ops split rows or columns into (fixed: results never depend on the thread count). */
export const RANGES = 8;

/** Thread count used when the caller does not choose one. */
export function defaultThreads(nnz: number): number {
  if (nnz < SMALL_NNZ) return 1;
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
}

export const kmeans: KMeansEngine = async (x: CsrMatrix, opts: KMeansOptions): Promise<KMeansResult> => {
  validate(x, opts);
  const nnz = x.indptr[x.nRows];
  const threads = opts.threads ?? defaultThreads(nnz);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InputError('bad_param', `threads must be a positive integer, got ${JSON.stringify(opts.threads)}.`);
  }
  const useSimd = opts.simd ?? process.env.MOVIEREC_KMEANS_SIMD !== '0';
  const S = allocState(x, opts.k, effectiveThreads(threads, Math.ceil(x.nRows / BLOCK_SIZE)), useSimd);
  try {
    return await cluster(S, opts, threads);
  } finally {
    releaseMemory(S);
  }
};

async function cluster(S: KernelState, opts: KMeansOptions, threads: number): Promise<KMeansResult> {
  const exec = await startExecutor(S, threads);
  try {
    await buildCsc(S, exec);
    const tolAbs = opts.tol * meanVarianceCsc(S);
    const m = new MainState(S);
    // one stream for all restarts, consumed in order (scikit-learn passes one RandomState to every init)
    const rs = new RandomState(opts.seed);
    const inertias: number[] = [];
    const starts: number[][] = [];
    let best: { labels: Int32Array; centroids: Float64Array; inertia: number; iterations: number; init: number } | null =
      null;
    for (let init = 0; init < opts.nInit; init++) {
      const r = await runInit(S, m, exec, rs, opts, init, tolAbs);
      inertias.push(r.inertia);
      starts.push(r.seeds);
      if (best === null || r.inertia < best.inertia) {
        best = { labels: S.labels.slice(), centroids: untranspose(S), inertia: r.inertia, iterations: r.iterations, init };
      }
    }
    const b = best as NonNullable<typeof best>;
    return {
      labels: b.labels,
      centroids: b.centroids,
      inertia: b.inertia,
      iterations: b.iterations,
      inertias,
      bestInit: b.init,
      engine: 'default',
      starts,
    };
  } finally {
    await exec.close();
  }
}

function validate(x: CsrMatrix, o: KMeansOptions): void {
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new InputError('bad_param', `K-means ${field} must be ${rule}, got ${JSON.stringify(value)}.`);
  };
  if (!Number.isInteger(o.k) || o.k < 1) bad('k', 'a positive integer', o.k);
  if (!Number.isInteger(o.nInit) || o.nInit < 1) bad('nInit', 'a positive integer', o.nInit);
  if (!Number.isInteger(o.maxIter) || o.maxIter < 1) bad('maxIter', 'a positive integer', o.maxIter);
  if (!(typeof o.tol === 'number' && Number.isFinite(o.tol) && o.tol >= 0)) bad('tol', 'a finite number ≥ 0', o.tol);
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) {
    bad('seed', 'an integer between 0 and 4294967295 (numpy\'s RandomState seeds)', o.seed);
  }
  const { nRows, nCols, indptr, indices, values } = x;
  const badMatrix = (what: string): never => {
    throw new InputError('bad_matrix', `K-means input matrix is malformed: ${what}; build it with buildMatrix.`);
  };
  if (nRows < 1 || nCols < 1) {
    throw new InputError('empty_matrix', 'K-means needs at least one user and one movie; the ratings file has none.');
  }
  if (indptr.length !== nRows + 1 || indptr[0] !== 0) badMatrix('indptr must have nRows + 1 entries starting at 0');
  const nnz = indptr[nRows];
  if (indices.length < nnz) badMatrix('indices is shorter than indptr[nRows]');
  if (values !== null && values.length < nnz) badMatrix('values is shorter than indptr[nRows]');
  for (let i = 0; i < nRows; i++) {
    const p0 = indptr[i];
    const p1 = indptr[i + 1];
    if (p1 < p0) badMatrix(`indptr decreases at row ${i}`);
    let last = -1;
    for (let p = p0; p < p1; p++) {
      const j = indices[p];
      if (!(j >= 0 && j < nCols)) badMatrix(`column index ${j} at position ${p} is outside 0..${nCols - 1}`);
      if (j <= last) badMatrix(`row ${i} has column indices not strictly ascending`);
      last = j;
    }
  }
  if (values !== null) {
    for (let p = 0; p < nnz; p++) if (!Number.isFinite(values[p])) badMatrix(`value at position ${p} is not finite`);
  }
  if (o.k > MAX_K) {
    throw new InputError('bad_param', `K-means k (${o.k}) is above ${MAX_K}, the most the default engine supports; choose a smaller k.`);
  }
  if (o.k > nRows) {
    throw new InputError('bad_param', `K-means k (${o.k}) exceeds the number of users (${nRows}); choose a smaller k.`);
  }
}

type TypedCtor<T> = { new (buf: ArrayBufferLike, offset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

/**
 * Where the kernel state's arrays live. Scalar path: one (Shared)ArrayBuffer each. SIMD path: every
 * array is a view into one shared WebAssembly memory (so simd.wat can read the matrix and the centres
 * and worker threads share it), 64-byte aligned; the layout is measured by a first dry pass.
 */
class Arena {
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

function allocState(x: CsrMatrix, k: number, threads: number, useSimd: boolean): KernelState {
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

function releaseMemory(S: KernelState): void {
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

/** The CSC copy (and ‖x_i‖²): count per row range and column in parallel, turn the counts into
 * positions, then place every entry in parallel. */
async function buildCsc(S: KernelState, exec: Executor): Promise<void> {
  await exec.run(OP_CSC_COUNT);
  const { d, nRanges: R, cscNext, cscPtr } = S;
  let pos = 0;
  for (let j = 0; j < d; j++) {
    cscPtr[j] = pos;
    for (let r = 0; r < R; r++) {
      const c = cscNext[r * d + j];
      cscNext[r * d + j] = pos;
      pos += c;
    }
  }
  cscPtr[d] = pos;
  await exec.run(OP_CSC_FILL);
}

/** meanVariance from the CSC copy (binary: each column's sum and sum of squares are its count). */
function meanVarianceCsc(S: KernelState): number {
  const { n, d, cscPtr, cscVals } = S;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    let sq = 0;
    if (cscVals === null) {
      sum = cscPtr[j + 1] - cscPtr[j];
      sq = sum;
    } else {
      for (let q = cscPtr[j]; q < cscPtr[j + 1]; q++) {
        sum += cscVals[q];
        sq += cscVals[q] * cscVals[q];
      }
    }
    const mean = sum / n;
    const v = sq / n - mean * mean;
    total += v > 0 ? v : 0;
  }
  return total / d;
}

/** State only the main thread touches: cluster sizes, the k-means++ cumulative sums. */
class MainState {
  readonly counts: Float64Array;
  readonly cum: Float64Array;
  /** max centre shift accumulated since the centre distances were last computed exactly */
  drift = 0;
  constructor(S: KernelState) {
    this.counts = new Float64Array(S.k);
    this.cum = new Float64Array(S.n);
  }
}

/** sklearn's tolerance scale: the mean over columns of each column's variance. */
export function meanVariance(x: CsrMatrix): number {
  const n = x.nRows;
  const d = x.nCols;
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  const nnz = x.indptr[n];
  for (let p = 0; p < nnz; p++) {
    const v = x.values === null ? 1 : x.values[p];
    sum[x.indices[p]] += v;
    sq[x.indices[p]] += v * v;
  }
  let total = 0;
  for (let j = 0; j < d; j++) {
    const mean = sum[j] / n;
    const v = sq[j] / n - mean * mean;
    total += v > 0 ? v : 0;
  }
  return total / d;
}

/** Sum of out[b*stride + col] over blocks, in block order. */
function blockSum(S: KernelState, col: number): number {
  let s = 0;
  for (let b = 0; b < S.nBlocks; b++) s += S.out[b * S.outStride + col];
  return s;
}

async function runInit(
  S: KernelState,
  m: MainState,
  exec: Executor,
  rs: RandomState,
  opts: KMeansOptions,
  init: number,
  tolAbs: number,
): Promise<{ inertia: number; iterations: number; seeds: number[] }> {
  const seeds = await seedPlusPlus(S, m, exec, rs);
  await setCentresFromRows(S, exec, seeds);
  m.drift = 0;

  // seeding left every row's exact squared distance to each centre in `lower`
  await exec.run(OP_ASSIGN_SEEDED);
  let lastChanged = S.n;
  let ubSq = blockSum(S, 1);
  await recomputeSums(S, m, exec);

  let iterations = 0;
  let strict = false;
  for (;;) {
    iterations++;
    const relocated = await relocateEmpty(S, m, exec);
    if (relocated > 0) lastChanged += relocated;
    const shiftTot = await updateCentres(S, m, exec);
    opts.onProgress?.({ init, nInit: opts.nInit, iteration: iterations, inertia: ubSq });
    // sklearn's order: labels unchanged by the last assignment ⇒ converged; else centre shift ≤ tol
    if (lastChanged === 0) {
      strict = true;
      break;
    }
    if (shiftTot <= tolAbs || iterations >= opts.maxIter) break;
    await exec.run(OP_ASSIGN);
    lastChanged = blockSum(S, 0);
    ubSq = blockSum(S, 1);
    await updateSums(S, m, exec, lastChanged);
  }
  if (!strict) {
    // make the labels match the final centres
    await exec.run(OP_ASSIGN);
  }
  await exec.run(OP_INERTIA);
  const inertia = blockSum(S, 0);
  opts.onProgress?.({ init, nInit: opts.nInit, iteration: iterations, inertia });
  return { inertia, iterations, seeds };
}

/** Scatter row r (times its values) into column `col` of a transposed dense matrix with `width` columns. */
function scatterRow(S: KernelState, r: number, target: Float64Array, width: number, col: number): void {
  const { indptr, indices, values } = S;
  for (let p = indptr[r]; p < indptr[r + 1]; p++) target[indices[p] * width + col] = values === null ? 1 : values[p];
}

/** Greedy k-means++ (scikit-learn's `_kmeans_plusplus`, with its draws): the first centre is
 * `randint(n)`; each next one is the best of 2 + ⌊ln k⌋ candidates at `searchsorted(cumsum(D²),
 * random_sample() · potential)`, "best" meaning the lowest resulting potential. Returns row indices,
 * and leaves each row's exact squared distance to chosen centre c in lower[i*k + c]. */
async function seedPlusPlus(S: KernelState, m: MainState, exec: Executor, rs: RandomState): Promise<number[]> {
  const { n, k, tMax, candRows, candNorm, closest, candDist, xnorm } = S;
  const trial = async (rows: number[]) => {
    rows.forEach((r, t) => {
      candRows[t] = r;
      candNorm[t] = xnorm[r];
    });
    await exec.run(OP_SEED_DOT, rows.length);
    await exec.run(OP_SEED, rows.length);
  };

  const first = rs.randint(n);
  const centres = [first];
  closest.fill(Infinity);
  await trial([first]);
  closest.set(candDist.subarray(0, n));
  keepSeedDistances(S, 0, 0);
  let pot = blockSum(S, 0);

  const cum = m.cum;
  for (let c = 1; c < k; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      s += closest[i];
      cum[i] = s;
    }
    const cands: number[] = [];
    for (let t = 0; t < tMax; t++) cands.push(searchLeft(cum, rs.randomSample() * pot));
    await trial(cands);
    let bestT = 0;
    let bestPot = Infinity;
    for (let t = 0; t < tMax; t++) {
      const p = blockSum(S, t);
      if (p < bestPot) {
        bestPot = p;
        bestT = t;
      }
    }
    closest.set(candDist.subarray(bestT * n, bestT * n + n));
    keepSeedDistances(S, bestT, c);
    pot = bestPot;
    centres.push(cands[bestT]);
  }
  return centres;
}

/** lower[i*k + c] = squared distance of row i to candidate t (the arithmetic of assignKernel's). */
function keepSeedDistances(S: KernelState, t: number, c: number): void {
  const { n, k, xnorm, candDot, lower } = S;
  const cn = S.candNorm[t];
  const base = t * n;
  for (let i = 0; i < n; i++) {
    let d2 = xnorm[i] - 2 * candDot[base + i] + cn;
    if (d2 < 0) d2 = 0;
    lower[i * k + c] = d2;
  }
}

/** First index i with cum[i] ≥ v (numpy searchsorted, side 'left'), clipped to the last index. */
function searchLeft(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cum.length - 1);
}

async function setCentresFromRows(S: KernelState, exec: Executor, rows: number[]): Promise<void> {
  S.ct.fill(0);
  rows.forEach((r, c) => {
    scatterRow(S, r, S.ct, S.kp, c);
    S.cnorm[c] = S.xnorm[r];
  });
  await computeHalfDistances(S, exec);
}

/** Adds (sign 1) or removes (sign −1) row i to/from centre c's sums, on the main thread (relocation). */
function addRow(S: KernelState, m: MainState, i: number, c: number, sign: number): void {
  const { indptr, indices, values, kp, sumT } = S;
  for (let p = indptr[i]; p < indptr[i + 1]; p++) sumT[indices[p] * kp + c] += values === null ? sign : sign * values[p];
  m.counts[c] += sign;
}

async function recomputeSums(S: KernelState, m: MainState, exec: Executor): Promise<void> {
  await exec.run(OP_SUMS, 1);
  m.counts.fill(0);
  for (let i = 0; i < S.n; i++) m.counts[S.labels[i]]++;
  S.prev.set(S.labels);
}

/** Moves only the rows whose label changed (or rebuilds the sums when that is cheaper). */
async function updateSums(S: KernelState, m: MainState, exec: Executor, changed: number): Promise<void> {
  if (changed === 0) return;
  if (changed * 2 > S.n) return recomputeSums(S, m, exec);
  await exec.run(OP_SUMS, 0);
  const { labels, prev } = S;
  const counts = m.counts;
  for (let i = 0; i < S.n; i++) {
    const a = labels[i];
    const b = prev[i];
    if (a !== b) {
      counts[b]--;
      counts[a]++;
      prev[i] = a;
    }
  }
}

/** Empty clusters (as scikit-learn): each takes the row farthest from its current centre (ties: lowest
 * row index), among rows whose cluster keeps at least one other member. Returns rows moved. */
async function relocateEmpty(S: KernelState, m: MainState, exec: Executor): Promise<number> {
  const empty: number[] = [];
  for (let c = 0; c < S.k; c++) if (m.counts[c] === 0) empty.push(c);
  if (empty.length === 0) return 0;
  await exec.run(OP_INERTIA); // upper[i] = exact distance to the current centre
  const order = Array.from({ length: S.n }, (_, i) => i).sort((a, b) => S.upper[b] - S.upper[a] || a - b);
  let moved = 0;
  let next = 0;
  for (const c of empty) {
    while (next < order.length && m.counts[S.labels[order[next]]] <= 1) next++;
    if (next >= order.length) break;
    const i = order[next++];
    const from = S.labels[i];
    addRow(S, m, i, from, -1);
    for (let j = 0; j < S.d; j++) S.sumT[j * S.kp + c] = 0; // drop rounding residue of the emptied sums
    m.counts[c] = 0;
    addRow(S, m, i, c, 1);
    S.labels[i] = c;
    S.prev[i] = c;
    S.upper[i] = Infinity; // forces a full recomputation of this row next time
    moved++;
  }
  return moved;
}

/** New centres = sums / counts (in parallel over column ranges); records each centre's shift and
 * returns the total squared shift. */
async function updateCentres(S: KernelState, m: MainState, exec: Executor): Promise<number> {
  const { k, kp, d, ct, cnorm, shift, inv, centrePart, nRanges } = S;
  const sumT = S.sumT;
  const counts = m.counts;
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) inv[c] = 1 / counts[c];
    else {
      // an empty cluster (only possible when relocation found no row) keeps its centre
      for (let j = 0; j < d; j++) sumT[j * kp + c] = ct[j * kp + c];
      inv[c] = 1;
    }
  }
  await exec.run(OP_CENTRES);
  const shift2 = new Float64Array(kp);
  const norm = new Float64Array(kp);
  for (let r = 0; r < nRanges; r++) {
    const o = r * 2 * kp;
    for (let c = 0; c < k; c++) {
      shift2[c] += centrePart[o + c];
      norm[c] += centrePart[o + kp + c];
    }
  }
  for (let c = 0; c < k; c++) if (counts[c] === 0) for (let j = 0; j < d; j++) sumT[j * kp + c] = 0;
  let total = 0;
  let maxShift = 0;
  for (let c = 0; c < k; c++) {
    shift[c] = Math.sqrt(shift2[c]);
    cnorm[c] = norm[c];
    total += shift2[c];
    if (shift[c] > maxShift) maxShift = shift[c];
  }
  // Centre-centre distances cost d·k²/2 per iteration. Once the centres barely move, keep them as
  // valid LOWER bounds instead (‖a'−b'‖ ≥ ‖a−b‖ − shift_a − shift_b), which keeps Elkan's pruning
  // correct, and recompute them exactly when the accumulated drift reaches a fraction of the smallest
  // half distance (deterministic: depends only on the data and the seed).
  m.drift += maxShift;
  let minHalf = Infinity;
  for (let c = 0; c < k; c++) if (S.sHalf[c] < minHalf) minHalf = S.sHalf[c];
  if (m.drift > DRIFT_EXACT * minHalf || !Number.isFinite(minHalf)) {
    await computeHalfDistances(S, exec);
    m.drift = 0;
  } else {
    decayHalfDistances(S);
  }
  return total;
}

/** Fraction of the smallest half centre distance the centres may drift before exact recomputation. */
const DRIFT_EXACT = 0.5;

function decayHalfDistances(S: KernelState): void {
  const { k, half, sHalf, shift } = S;
  sHalf.fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let h = half[a * k + b] - (shift[a] + shift[b]) / 2;
      if (h < 0) h = 0;
      half[a * k + b] = h;
      half[b * k + a] = h;
      if (h < sHalf[a]) sHalf[a] = h;
      if (h < sHalf[b]) sHalf[b] = h;
    }
  }
  if (k === 1) sHalf[0] = Infinity;
}

/** half[a*k+b] = ‖c_a − c_b‖ / 2 and sHalf[a] = min over b ≠ a, from the Gram matrix of the centres
 * (partial Grams over column ranges in parallel, added in range order). */
async function computeHalfDistances(S: KernelState, exec: Executor): Promise<void> {
  const { k, cnorm, half, sHalf, gramPart, nRanges } = S;
  await exec.run(OP_GRAM);
  const gram = new Float64Array(k * k);
  for (let r = 0; r < nRanges; r++) {
    const o = r * k * k;
    for (let q = 0; q < k * k; q++) gram[q] += gramPart[o + q];
  }
  sHalf.fill(Infinity);
  for (let a = 0; a < k; a++) {
    half[a * k + a] = 0;
    for (let b = a + 1; b < k; b++) {
      let d2 = cnorm[a] + cnorm[b] - 2 * gram[a * k + b];
      if (d2 < 0) d2 = 0;
      const h = Math.sqrt(d2) / 2;
      half[a * k + b] = h;
      half[b * k + a] = h;
      if (h < sHalf[a]) sHalf[a] = h;
      if (h < sHalf[b]) sHalf[b] = h;
    }
  }
  if (k === 1) sHalf[0] = Infinity;
}

/** centres as k × nCols row-major */
function untranspose(S: KernelState): Float64Array {
  const { k, kp, d, ct } = S;
  const out = new Float64Array(k * d);
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) out[c * d + j] = ct[j * kp + c];
  return out;
}
