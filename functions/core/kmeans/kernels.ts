// Hot loops of the K-means engine. Every function here is SELF-CONTAINED: it references only its
// parameters and globals (Math, Atomics), never another module-level binding, because the worker
// pool ships them to worker threads as source text (`fn.toString()`), which must keep working after
// the jest transform, the CLI bundle and a minified Lambda bundle. Do not add helpers, imports,
// named inner functions or module constants inside these bodies.
//
// Each kernel works on rows [start, end) of one fixed-size block and writes its per-block results to
// `S.out[block * S.outStride + …]`; the caller combines blocks in block order, so every reduction is
// independent of how many threads ran the blocks and in which order they finished.
//
// Why assignKernel and assignSimdKernel each carry their own Elkan bound updates rather than sharing one
// routine: a shared helper cannot exist (the self-contained rule above), and merging the two kernels into
// one with a branch per group of centres was measured slower — on the 25M set with 200 planted tastes the
// SIMD path went from 3.0–3.3 s to 3.3–4.5 s and the scalar path from 5.3–5.6 s to 6.9–7.8 s per
// clustering (BENCHMARKS.md). The two copies are kept bit-identical by test/unit/kmeans-simd.test.ts.

/** Everything the kernels read or write. In worker mode every array is backed by a SharedArrayBuffer. */
export interface KernelState {
  n: number;
  d: number;
  k: number;
  /** k rounded up to a multiple of 4: the row stride of ct (padding centres are all zero) */
  kp: number;
  blockSize: number;
  nBlocks: number;
  indptr: Int32Array;
  indices: Int32Array;
  /** null ⇒ binary matrix */
  values: Float64Array | null;
  /** ‖x_i‖² */
  xnorm: Float64Array;
  labels: Int32Array;
  /** upper bound of the distance from x_i to its assigned centre */
  upper: Float64Array;
  /** n × k lower bounds of the distance from x_i to every centre */
  lower: Float64Array;
  /** centres transposed: d × kp (ct[j*kp + c]) */
  ct: Float64Array;
  /** ‖c‖² */
  cnorm: Float64Array;
  /** k × k: half the distance between centres */
  half: Float64Array;
  /** k: half the distance from each centre to its nearest other centre */
  sHalf: Float64Array;
  /** k: how far each centre moved in the last update */
  shift: Float64Array;
  /** the matrix by columns (CSC), rows ascending within each column: seeding's sparse dot products */
  cscPtr: Int32Array;
  cscRows: Int32Array;
  /** null ⇒ binary matrix */
  cscVals: Float64Array | null;
  /** seeding: the rows of this round's candidate centres (tMax) and their ‖x‖² */
  candRows: Int32Array;
  candNorm: Float64Array;
  tMax: number;
  /** seeding: tMax × n dot products x_i · candidate (candDot[c*n + i]) */
  candDot: Float64Array;
  /** fixed number of ranges the range ops split rows or columns into (any split gives identical results) */
  nRanges: number;
  /** nRanges + 1 row boundaries with about equal non-zeros per range (the transpose ops) */
  rangeRows: Int32Array;
  /** transpose: per row range, each column's count, then its first free position (nRanges × d) */
  cscNext: Int32Array;
  /** centre update: 1 / cluster size (kp) */
  inv: Float64Array;
  /** centre update: per column range, partial Σ shift² (kp) then Σ centre² (kp): nRanges × 2kp */
  centrePart: Float64Array;
  /** centre Gram matrix: per column range, partial k × k (upper triangle) */
  gramPart: Float64Array;
  /** seeding: squared distance of each point to its closest chosen centre */
  closest: Float64Array;
  /** seeding: tMax × n squared distances min(closest, d(x, candidate t)) */
  candDist: Float64Array;
  /** centre sums, transposed like ct: d × kp */
  sumT: Float64Array;
  /** labels when sumT was last brought up to date */
  prev: Int32Array;
  /** column ranges the sums op is split into (= threads; any split gives identical sums) */
  nColRanges: number;
  out: Float64Array;
  outStride: number;
  /** [0] = next block to claim */
  counter: Int32Array;
  /** SIMD path: the shared WebAssembly memory every array above lives in, and the compiled simd.wat
   * (both cross to worker threads by postMessage); null ⇒ the scalar kernels on plain buffers */
  wasm: { memory: WebAssembly.Memory; module: WebAssembly.Module } | null;
  /** SIMD path: per-block dot-product scratch, nBlocks × kp (in the WebAssembly memory) */
  accs: Float64Array;
  /** SIMD path: this thread's instance of simd.wat (set in each thread, never posted) */
  wx?: SimdExports;
}

/** simd.wat's exports: b4…b16 (binary rows), v4…v16 (weighted rows), m16/w16 (many rows in column order,
 * recommender/passes.ts); see simd.wat for the contract. */
export interface SimdExports {
  b4: SimdBinary;
  b8: SimdBinary;
  b12: SimdBinary;
  b16: SimdBinary;
  v4: SimdWeighted;
  v8: SimdWeighted;
  v12: SimdWeighted;
  v16: SimdWeighted;
  m16: (pp: number, pe: number, ct: number, out: number) => void;
  w16: (pp: number, pe: number, vp: number, ct: number, out: number) => void;
}
type SimdBinary = (ip: number, ie: number, ct: number, stride: number, out: number) => void;
type SimdWeighted = (ip: number, ie: number, vp: number, ct: number, stride: number, out: number) => void;

export const OP_ASSIGN = 0;
export const OP_SEED_DOT = 1;
export const OP_SEED = 2;
export const OP_INERTIA = 3;
export const OP_SUMS = 4;
export const OP_ASSIGN_SEEDED = 5;
export const OP_CSC_COUNT = 6;
export const OP_CSC_FILL = 7;
export const OP_CENTRES = 8;
export const OP_GRAM = 9;

/** The kernels, passed as one object to runBlocks and the worker loop (see the file comment). */
export interface Kernels {
  assign: typeof assignKernel;
  assignSimd: typeof assignSimdKernel;
  seedDot: typeof seedDotKernel;
  seed: typeof seedKernel;
  inertia: typeof inertiaKernel;
  sums: typeof sumsKernel;
  assignSeeded: typeof assignSeededKernel;
  transpose: typeof transposeKernel;
  centres: typeof centresKernel;
  gram: typeof gramKernel;
}

/**
 * Elkan assignment. For each row: shift its bounds by how far the centres moved, skip it when the
 * bounds prove its centre is still the nearest, otherwise compute its distance to every group of 4
 * centres that the bounds cannot rule out, one pass over the row's non-zeros per group (centres are
 * stored transposed, so each non-zero touches 4 adjacent doubles). The first assignment after
 * seeding is assignSeededKernel's.
 * out: [changed labels, Σ upper², rows recomputed, non-zeros × centre groups computed].
 */
export function assignKernel(S: KernelState, start: number, end: number, block: number): void {
  const k = S.k;
  const kp = S.kp;
  const indptr = S.indptr;
  const indices = S.indices;
  const values = S.values;
  const xnorm = S.xnorm;
  const labels = S.labels;
  const upper = S.upper;
  const lower = S.lower;
  const ct = S.ct;
  const cnorm = S.cnorm;
  const half = S.half;
  const sHalf = S.sHalf;
  const shift = S.shift;
  let changed = 0;
  let ubSq = 0;
  let computed = 0;
  let nnzDone = 0;
  const acc = new Float64Array(kp);
  const nTiles = kp >> 2;
  for (let i = start; i < end; i++) {
    const a = labels[i];
    const lb = i * k;
    const ha = a * k;
    // tiles (groups of 4 centres) whose distances must be computed: bit t ⇒ centres 4t..4t+3
    let tiles = 0;
    let ub = upper[i] + shift[a];
    const open = ub > sHalf[a];
    // shift the lower bounds and test them in one pass
    for (let c = 0; c < k; c++) {
      let v = lower[lb + c] - shift[c];
      if (v < 0) v = 0;
      lower[lb + c] = v;
      if (open && c !== a && ub > v && ub > half[ha + c]) tiles |= 1 << (c >> 2);
    }
    if (tiles === 0) {
      upper[i] = ub;
      ubSq += ub * ub;
      continue;
    }
    computed++;
    const p0 = indptr[i];
    const p1 = indptr[i + 1];
    const xn = xnorm[i];
    const ta = a >> 2;
    tiles |= 1 << ta;
    // Own tile first: its exact distance tightens the upper bound (Elkan), after which the remaining
    // tiles are tested again. A skipped centre is provably no nearer than the own centre (its lower
    // bound or half centre distance is ≥ the upper bound). Two needed tiles of an aligned pair are
    // computed in one 8-wide pass (fewer passes over the row's non-zeros).
    let done = 0;
    for (let step = 0; ; step++) {
      let t = ta;
      if (step > 0) {
        if (step === 1) {
          let d2 = xn - 2 * acc[a] + cnorm[a];
          if (d2 < 0) d2 = 0;
          ub = Math.sqrt(d2);
          tiles = done;
          for (let c = 0; c < k; c++) {
            if (((done >> (c >> 2)) & 1) === 0 && ub > lower[lb + c] && ub > half[ha + c]) tiles |= 1 << (c >> 2);
          }
        }
        t = -1;
        for (let u = 0; u < nTiles; u++) {
          if (((tiles >> u) & 1) === 1 && ((done >> u) & 1) === 0) {
            t = u;
            break;
          }
        }
        if (t < 0) break;
      }
      const mate = t ^ 1;
      if (mate < nTiles && ((tiles >> mate) & 1) === 1 && ((done >> mate) & 1) === 0) {
        const cb = (t & ~1) << 2;
        done |= 3 << (t & ~1);
        nnzDone += 2 * (p1 - p0);
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let s4 = 0;
        let s5 = 0;
        let s6 = 0;
        let s7 = 0;
        if (values === null) {
          for (let p = p0; p < p1; p++) {
            const q = indices[p] * kp + cb;
            s0 += ct[q];
            s1 += ct[q + 1];
            s2 += ct[q + 2];
            s3 += ct[q + 3];
            s4 += ct[q + 4];
            s5 += ct[q + 5];
            s6 += ct[q + 6];
            s7 += ct[q + 7];
          }
        } else {
          for (let p = p0; p < p1; p++) {
            const q = indices[p] * kp + cb;
            const v = values[p];
            s0 += v * ct[q];
            s1 += v * ct[q + 1];
            s2 += v * ct[q + 2];
            s3 += v * ct[q + 3];
            s4 += v * ct[q + 4];
            s5 += v * ct[q + 5];
            s6 += v * ct[q + 6];
            s7 += v * ct[q + 7];
          }
        }
        acc[cb] = s0;
        acc[cb + 1] = s1;
        acc[cb + 2] = s2;
        acc[cb + 3] = s3;
        acc[cb + 4] = s4;
        acc[cb + 5] = s5;
        acc[cb + 6] = s6;
        acc[cb + 7] = s7;
      } else {
        const cb = t << 2;
        done |= 1 << t;
        nnzDone += p1 - p0;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        if (values === null) {
          for (let p = p0; p < p1; p++) {
            const q = indices[p] * kp + cb;
            s0 += ct[q];
            s1 += ct[q + 1];
            s2 += ct[q + 2];
            s3 += ct[q + 3];
          }
        } else {
          for (let p = p0; p < p1; p++) {
            const q = indices[p] * kp + cb;
            const v = values[p];
            s0 += v * ct[q];
            s1 += v * ct[q + 1];
            s2 += v * ct[q + 2];
            s3 += v * ct[q + 3];
          }
        }
        acc[cb] = s0;
        acc[cb + 1] = s1;
        acc[cb + 2] = s2;
        acc[cb + 3] = s3;
      }
    }
    // exact distances (and lower bounds) of every computed centre; the nearest among them wins. Ties
    // keep the current centre (stable; a relocated row stays where it was put), else the lowest index.
    let best = a;
    let bestD2 = xn - 2 * acc[a] + cnorm[a];
    if (bestD2 < 0) bestD2 = 0;
    for (let c = 0; c < k; c++) {
      if (((done >> (c >> 2)) & 1) === 0) continue;
      let d2 = xn - 2 * acc[c] + cnorm[c];
      if (d2 < 0) d2 = 0;
      lower[lb + c] = Math.sqrt(d2);
      if (d2 < bestD2) {
        bestD2 = d2;
        best = c;
      }
    }
    if (best !== a) changed++;
    labels[i] = best;
    upper[i] = Math.sqrt(bestD2);
    ubSq += bestD2;
  }
  const o = block * S.outStride;
  S.out[o] = changed;
  S.out[o + 1] = ubSq;
  S.out[o + 2] = computed;
  S.out[o + 3] = nnzDone;
}

/**
 * Elkan assignment on the SIMD path: the same bounds as assignKernel, but a row that needs any
 * distance gets them from simd.wat, 16 centres per pass over its non-zeros (one pass covers every
 * centre when k ≤ 16: a pass costs about the same whatever its width, since it is bound by the
 * scattered loads of the centres' rows, not by the additions). With more than one group of 16, the
 * own centre's group comes first and tightens the upper bound before the other groups are tested
 * again. Dot products are bit-identical to assignKernel's (simd.wat keeps the scalar summation order).
 * out: as assignKernel's.
 */
export function assignSimdKernel(S: KernelState, start: number, end: number, block: number): void {
  const k = S.k;
  const kp = S.kp;
  const indptr = S.indptr;
  const values = S.values;
  const xnorm = S.xnorm;
  const labels = S.labels;
  const upper = S.upper;
  const lower = S.lower;
  const cnorm = S.cnorm;
  const half = S.half;
  const sHalf = S.sHalf;
  const shift = S.shift;
  const wx = S.wx as SimdExports;
  const acc = S.accs;
  const ao = block * kp;
  const accPtr = acc.byteOffset + ao * 8;
  const ip = S.indices.byteOffset;
  const vp = values === null ? 0 : values.byteOffset;
  const ctPtr = S.ct.byteOffset;
  const stride = kp * 8;
  const nGroups = (kp + 15) >> 4;
  const fb = [wx.b4, wx.b4, wx.b8, wx.b12, wx.b16];
  const fv = [wx.v4, wx.v4, wx.v8, wx.v12, wx.v16];
  let changed = 0;
  let ubSq = 0;
  let computed = 0;
  let nnzDone = 0;
  for (let i = start; i < end; i++) {
    const a = labels[i];
    const lb = i * k;
    const ha = a * k;
    // groups (of 16 centres) whose distances must be computed: bit g ⇒ centres 16g … 16g+15
    let groups = 0;
    let ub = upper[i] + shift[a];
    const open = ub > sHalf[a];
    for (let c = 0; c < k; c++) {
      let v = lower[lb + c] - shift[c];
      if (v < 0) v = 0;
      lower[lb + c] = v;
      if (open && c !== a && ub > v && ub > half[ha + c]) groups |= 1 << (c >> 4);
    }
    if (groups === 0) {
      upper[i] = ub;
      ubSq += ub * ub;
      continue;
    }
    computed++;
    const p0 = indptr[i];
    const p1 = indptr[i + 1];
    const xn = xnorm[i];
    const ga = a >> 4;
    groups |= 1 << ga;
    let done = 0;
    for (let step = 0; ; step++) {
      let g = ga;
      if (step > 0) {
        if (step === 1 && nGroups > 1) {
          let d2 = xn - 2 * acc[ao + a] + cnorm[a];
          if (d2 < 0) d2 = 0;
          ub = Math.sqrt(d2);
          groups = done;
          for (let c = 0; c < k; c++) {
            if (((done >> (c >> 4)) & 1) === 0 && ub > lower[lb + c] && ub > half[ha + c]) groups |= 1 << (c >> 4);
          }
        }
        g = -1;
        for (let u = 0; u < nGroups; u++) {
          if (((groups >> u) & 1) === 1 && ((done >> u) & 1) === 0) {
            g = u;
            break;
          }
        }
        if (g < 0) break;
      }
      done |= 1 << g;
      const width = Math.min(16, kp - 16 * g);
      nnzDone += (width >> 2) * (p1 - p0);
      if (values === null) fb[width >> 2](ip + p0 * 4, ip + p1 * 4, ctPtr + g * 128, stride, accPtr + g * 128);
      else fv[width >> 2](ip + p0 * 4, ip + p1 * 4, vp + p0 * 8, ctPtr + g * 128, stride, accPtr + g * 128);
    }
    // exact distances (and lower bounds) of every computed centre; the nearest among them wins. Ties
    // keep the current centre, else the lowest index (as assignKernel).
    let best = a;
    let bestD2 = xn - 2 * acc[ao + a] + cnorm[a];
    if (bestD2 < 0) bestD2 = 0;
    for (let c = 0; c < k; c++) {
      if (((done >> (c >> 4)) & 1) === 0) continue;
      let d2 = xn - 2 * acc[ao + c] + cnorm[c];
      if (d2 < 0) d2 = 0;
      lower[lb + c] = Math.sqrt(d2);
      if (d2 < bestD2) {
        bestD2 = d2;
        best = c;
      }
    }
    if (best !== a) changed++;
    labels[i] = best;
    upper[i] = Math.sqrt(bestD2);
    ubSq += bestD2;
  }
  const o = block * S.outStride;
  S.out[o] = changed;
  S.out[o + 1] = ubSq;
  S.out[o + 2] = computed;
  S.out[o + 3] = nnzDone;
}

/**
 * k-means++ trial, part 1: dot products of every row with candidate `c` (a row of the matrix itself),
 * through the CSC copy: for each non-zero (j, v) of the candidate, every row with a non-zero in column j
 * gets x_ij·v added. Only rows sharing a movie with the candidate are touched, far fewer than all
 * non-zeros. Block b = candidate ⌊b / nRanges⌋, rows of range b mod nRanges. Each row's sum is
 * accumulated in ascending column order with the same products as a row-wise pass, so the result is
 * bit-identical to one, whatever the split.
 */
export function seedDotKernel(S: KernelState, block: number): void {
  const n = S.n;
  const R = S.nRanges;
  const c = Math.floor(block / R);
  const range = block - c * R;
  const lo = Math.floor((range * n) / R);
  const hi = Math.floor(((range + 1) * n) / R);
  const indptr = S.indptr;
  const indices = S.indices;
  const values = S.values;
  const cscPtr = S.cscPtr;
  const cscRows = S.cscRows;
  const cscVals = S.cscVals;
  const dot = S.candDot;
  const base = c * n;
  dot.fill(0, base + lo, base + hi);
  const r = S.candRows[c];
  for (let p = indptr[r]; p < indptr[r + 1]; p++) {
    const j = indices[p];
    const v = values === null ? 1 : values[p];
    let q = cscPtr[j];
    const qe = cscPtr[j + 1];
    if (lo > 0) {
      // first entry of column j with row ≥ lo
      let h = qe;
      while (q < h) {
        const mid = (q + h) >>> 1;
        if (cscRows[mid] < lo) q = mid + 1;
        else h = mid;
      }
    }
    if (cscVals === null) {
      for (; q < qe; q++) {
        const i = cscRows[q];
        if (i >= hi) break;
        dot[base + i] += v;
      }
    } else {
      for (; q < qe; q++) {
        const i = cscRows[q];
        if (i >= hi) break;
        dot[base + i] += cscVals[q] * v;
      }
    }
  }
}

/**
 * k-means++ trial, part 2: squared distance of every row to each of `t` candidates (from candDot),
 * min'ed with the distance to the closest centre chosen so far; writes them to candDist[c*n + i] and
 * the per-block potential of each candidate to out[block*stride + c].
 */
export function seedKernel(S: KernelState, start: number, end: number, block: number, t: number): void {
  const n = S.n;
  const xnorm = S.xnorm;
  const candNorm = S.candNorm;
  const candDot = S.candDot;
  const closest = S.closest;
  const candDist = S.candDist;
  const o = block * S.outStride;
  for (let c = 0; c < t; c++) {
    const base = c * n;
    const cn = candNorm[c];
    let pot = 0;
    for (let i = start; i < end; i++) {
      let d2 = xnorm[i] - 2 * candDot[base + i] + cn;
      if (d2 < 0) d2 = 0;
      const cl = closest[i];
      if (cl < d2) d2 = cl;
      candDist[base + i] = d2;
      pot += d2;
    }
    S.out[o + c] = pot;
  }
}

/**
 * The first assignment after seeding: seeding left each row's exact squared distance to every chosen
 * centre in lower[i*k + c] (the same arithmetic as assignKernel's). Picks the nearest (ties: lowest
 * index), turns the row's lower bounds into distances and sets its upper bound.
 * out: [rows assigned (all changed), Σ upper², rows computed, 0].
 */
export function assignSeededKernel(S: KernelState, start: number, end: number, block: number): void {
  const k = S.k;
  const labels = S.labels;
  const upper = S.upper;
  const lower = S.lower;
  let ubSq = 0;
  for (let i = start; i < end; i++) {
    const lb = i * k;
    let best = -1;
    let bestD2 = Infinity;
    for (let c = 0; c < k; c++) {
      const d2 = lower[lb + c];
      lower[lb + c] = Math.sqrt(d2);
      if (d2 < bestD2) {
        bestD2 = d2;
        best = c;
      }
    }
    labels[i] = best;
    upper[i] = Math.sqrt(bestD2);
    ubSq += bestD2;
  }
  const o = block * S.outStride;
  S.out[o] = end - start;
  S.out[o + 1] = ubSq;
  S.out[o + 2] = end - start;
  S.out[o + 3] = 0;
}

/** Exact squared distance of each row to its assigned centre: sets upper[i] to the exact distance and
 * writes the block's sum of squared distances (its share of the inertia) to out[block*stride]. */
export function inertiaKernel(S: KernelState, start: number, end: number, block: number): void {
  const kp = S.kp;
  const indptr = S.indptr;
  const indices = S.indices;
  const values = S.values;
  const xnorm = S.xnorm;
  const labels = S.labels;
  const upper = S.upper;
  const ct = S.ct;
  const cnorm = S.cnorm;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const a = labels[i];
    let dot = 0;
    const p0 = indptr[i];
    const p1 = indptr[i + 1];
    if (values === null) {
      for (let p = p0; p < p1; p++) dot += ct[indices[p] * kp + a];
    } else {
      for (let p = p0; p < p1; p++) dot += values[p] * ct[indices[p] * kp + a];
    }
    let d2 = xnorm[i] - 2 * dot + cnorm[a];
    if (d2 < 0) d2 = 0;
    upper[i] = Math.sqrt(d2);
    sum += d2;
  }
  S.out[block * S.outStride] = sum;
}

/**
 * Centre sums for columns in range r of nColRanges: mode 1 rebuilds them from the CSC copy (each
 * column's rows in ascending order), mode 0 moves only the rows whose label differs from `prev`
 * (subtract from the old centre, add to the new). Either way every sum receives its additions in row
 * order whatever the split, so the result never depends on it. Needs column indices sorted within each
 * row (the CSR contract).
 */
export function sumsKernel(S: KernelState, r: number, mode: number): void {
  const n = S.n;
  const d = S.d;
  const kp = S.kp;
  const nr = S.nColRanges;
  const j0 = Math.floor((r * d) / nr);
  const j1 = Math.floor(((r + 1) * d) / nr);
  const labels = S.labels;
  const sumT = S.sumT;
  if (mode === 1) {
    sumT.fill(0, j0 * kp, j1 * kp);
    const cscPtr = S.cscPtr;
    const cscRows = S.cscRows;
    const cscVals = S.cscVals;
    for (let j = j0; j < j1; j++) {
      const base = j * kp;
      const q1 = cscPtr[j + 1];
      if (cscVals === null) for (let q = cscPtr[j]; q < q1; q++) sumT[base + labels[cscRows[q]]] += 1;
      else for (let q = cscPtr[j]; q < q1; q++) sumT[base + labels[cscRows[q]]] += cscVals[q];
    }
    return;
  }
  const indptr = S.indptr;
  const indices = S.indices;
  const values = S.values;
  const prev = S.prev;
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    const b = prev[i];
    if (a === b) continue;
    let lo = indptr[i];
    const end = indptr[i + 1];
    if (j0 > 0) {
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (indices[mid] < j0) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let p = lo; p < end; p++) {
      const j = indices[p];
      if (j >= j1) break;
      const v = values === null ? 1 : values[p];
      const q = j * kp;
      sumT[q + b] -= v;
      sumT[q + a] += v;
    }
  }
}

/**
 * The CSC copy, built in two range ops over rows [rangeRows[r], rangeRows[r+1]). mode 0: count each
 * column's entries of the range into cscNext[r*d + j] (and set ‖x_i‖² of its rows); the main thread then
 * turns the counts into first positions (column start + counts of earlier ranges). mode 1: place each
 * entry at its column's next position. Within a column, rows come out ascending whatever the split.
 */
export function transposeKernel(S: KernelState, r: number, mode: number): void {
  const d = S.d;
  const i0 = S.rangeRows[r];
  const i1 = S.rangeRows[r + 1];
  const indptr = S.indptr;
  const indices = S.indices;
  const values = S.values;
  const next = S.cscNext;
  const o = r * d;
  if (mode === 0) {
    next.fill(0, o, o + d);
    const xnorm = S.xnorm;
    for (let i = i0; i < i1; i++) {
      const p1 = indptr[i + 1];
      let sq = 0;
      for (let p = indptr[i]; p < p1; p++) {
        next[o + indices[p]]++;
        if (values !== null) sq += values[p] * values[p];
      }
      xnorm[i] = values === null ? p1 - indptr[i] : sq;
    }
    return;
  }
  const rows = S.cscRows;
  const vals = S.cscVals;
  for (let i = i0; i < i1; i++) {
    const p1 = indptr[i + 1];
    for (let p = indptr[i]; p < p1; p++) {
      const q = next[o + indices[p]]++;
      rows[q] = i;
      if (vals !== null) vals[q] = (values as Float64Array)[p];
    }
  }
}

/**
 * Centre update over column range r of nRanges: ct = sumT · inv (per centre), and the range's partial
 * Σ (new − old)² and Σ new² per centre into centrePart[r*2kp …]. The main thread adds the partials in
 * range order, so the totals never depend on the thread count.
 */
export function centresKernel(S: KernelState, r: number): void {
  const d = S.d;
  const k = S.k;
  const kp = S.kp;
  const R = S.nRanges;
  const j0 = Math.floor((r * d) / R);
  const j1 = Math.floor(((r + 1) * d) / R);
  const ct = S.ct;
  const sumT = S.sumT;
  const inv = S.inv;
  const part = S.centrePart;
  const o = r * 2 * kp;
  part.fill(0, o, o + 2 * kp);
  for (let j = j0; j < j1; j++) {
    const base = j * kp;
    for (let c = 0; c < k; c++) {
      const v = sumT[base + c] * inv[c];
      const diff = v - ct[base + c];
      part[o + c] += diff * diff;
      part[o + kp + c] += v * v;
      ct[base + c] = v;
    }
  }
}

/** Partial Gram matrix of the centres (a < b) over column range r, into gramPart[r*k*k …]. */
export function gramKernel(S: KernelState, r: number): void {
  const d = S.d;
  const k = S.k;
  const kp = S.kp;
  const R = S.nRanges;
  const j0 = Math.floor((r * d) / R);
  const j1 = Math.floor(((r + 1) * d) / R);
  const ct = S.ct;
  const g = S.gramPart;
  const o = r * k * k;
  g.fill(0, o, o + k * k);
  for (let j = j0; j < j1; j++) {
    const base = j * kp;
    for (let a = 0; a < k; a++) {
      const va = ct[base + a];
      if (va === 0) continue;
      const ga = o + a * k;
      for (let b = a + 1; b < k; b++) g[ga + b] += va * ct[base + b];
    }
  }
}

/** Claims blocks from the shared counter until none are left and runs `op` on each. The same loop runs
 * on the main thread and in every worker; which thread ran a block never changes its result. */
export function runBlocks(S: KernelState, op: number, arg: number, K: Kernels): void {
  const nBlocks = op === 4 ? S.nColRanges : op === 1 ? arg * S.nRanges : op >= 6 ? S.nRanges : S.nBlocks;
  const bs = S.blockSize;
  for (;;) {
    const b = Atomics.add(S.counter, 0, 1);
    if (b >= nBlocks) return;
    const start = b * bs;
    const end = Math.min(S.n, start + bs);
    if (op === 0 && S.wx === undefined) K.assign(S, start, end, b);
    else if (op === 0) K.assignSimd(S, start, end, b);
    else if (op === 1) K.seedDot(S, b);
    else if (op === 2) K.seed(S, start, end, b, arg);
    else if (op === 3) K.inertia(S, start, end, b);
    else if (op === 4) K.sums(S, b, arg);
    else if (op === 5) K.assignSeeded(S, start, end, b);
    else if (op === 6) K.transpose(S, b, 0);
    else if (op === 7) K.transpose(S, b, 1);
    else if (op === 8) K.centres(S, b);
    else K.gram(S, b);
  }
}

/** Body of a worker thread: receives the shared state once, then runs ops on request. */
export function workerMain(port: import('node:worker_threads').MessagePort, run: typeof runBlocks, K: Kernels): void {
  let S: KernelState | null = null;
  port.on('message', (msg: { type: string; state?: KernelState; op?: number; arg?: number }) => {
    if (msg.type === 'init') {
      S = msg.state as KernelState;
      if (S.wasm !== null) {
        const inst = new WebAssembly.Instance(S.wasm.module, { env: { mem: S.wasm.memory } });
        S.wx = inst.exports as unknown as KernelState['wx'];
      }
      port.postMessage({ type: 'ready' });
    } else if (msg.type === 'run' && S !== null) {
      try {
        run(S, msg.op as number, msg.arg as number, K);
        port.postMessage({ type: 'done' });
      } catch (e) {
        port.postMessage({ type: 'error', message: String(e && (e as Error).stack ? (e as Error).stack : e) });
      }
    }
  });
}
