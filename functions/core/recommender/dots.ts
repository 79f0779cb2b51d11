// Many users' personal rows at once (validation and the publish check) on the engine's WebAssembly SIMD
// kernel (simd.wat: out[c] = Σ_p x_p · table[idx_p · stride + c], summed in ascending p, each product
// rounded before the add — personal.ts personalRow's arithmetic), 16 columns per pass. Without WebAssembly
// SIMD, personalRow itself (test/unit/personal.property.test.ts checks that both give identical numbers).
import { SIMD_WASM_BASE64 } from '../kmeans/simd-wasm';
import { simdAvailable } from '../kmeans';
import type { SimdExports } from '../kmeans/kernels';
import { personalRow } from './personal';

const GROUP = 16;

/**
 * Personal rows of many users at once (validation and the publish check): the same sums as personal.ts
 * personalRow — s = Σ_{list positions p in the history, ascending} ρ_p · B[p, ·], each product rounded
 * before the add — computed by simd.wat's weighted kernel, 16 columns per pass over the user's positions.
 * The lists' matrices are stored as float64 rows padded to a multiple of 16 columns. Without WebAssembly
 * SIMD it falls back to personalRow itself.
 */
export class LocalRows {
  private readonly wasm: { wx: SimdExports; idx: Int32Array; val: Float64Array; out: Float64Array; idxAt: number; valAt: number; outAt: number } | null;
  private readonly at = new Map<number, { base: number; L: number; stride: number; b: Float32Array }>();

  constructor(lists: ReadonlyArray<{ id: number; b: Float32Array; L: number }>, opts: { simd?: boolean } = {}) {
    let maxL = 0;
    let bytes = 0;
    for (const l of lists) {
      const stride = Math.ceil(l.L / GROUP) * GROUP;
      maxL = Math.max(maxL, l.L);
      this.at.set(l.id, { base: bytes, L: l.L, stride, b: l.b });
      bytes += l.L * stride * 8;
    }
    const strideMax = Math.ceil(Math.max(1, maxL) / GROUP) * GROUP;
    const total = bytes + maxL * 4 + 64 + maxL * 8 + 64 + strideMax * 8 + 256;
    const pages = Math.ceil(total / 65_536) + 1;
    if (!((opts.simd ?? true) && simdAvailable()) || pages > 65_536) {
      this.wasm = null;
      return;
    }
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const module = new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
    const wx = new WebAssembly.Instance(module, { env: { mem: memory } }).exports as unknown as SimdExports;
    const table = new Float64Array(memory.buffer, 0, bytes / 8);
    for (const { base, L, stride, b } of this.at.values()) {
      for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) table[base / 8 + i * stride + j] = b[i * L + j];
    }
    const idxAt = Math.ceil(bytes / 64) * 64;
    const valAt = Math.ceil((idxAt + maxL * 4) / 64) * 64;
    const outAt = Math.ceil((valAt + maxL * 8) / 64) * 64;
    this.wasm = {
      wx,
      idx: new Int32Array(memory.buffer, idxAt, maxL),
      val: new Float64Array(memory.buffer, valAt, maxL),
      out: new Float64Array(memory.buffer, outAt, strideMax),
      idxAt,
      valAt,
      outAt,
    };
  }

  /** The personal row of list `id` (its movies `movieIds`, in B's order, as columns) for weights `rho`
   * (by column; NaN where the user has no weight); null when none of the list's movies has a weight. */
  row(id: number, movieIds: ArrayLike<number>, rho: Float64Array): Float64Array | null {
    const l = this.at.get(id);
    if (!l) throw new Error(`LocalRows: no list ${id}`);
    if (this.wasm === null) {
      const map = new Map<number, number>();
      for (let p = 0; p < l.L; p++) if (rho[movieIds[p]] === rho[movieIds[p]]) map.set(movieIds[p], rho[movieIds[p]]);
      return personalRow({ movieIds, b: l.b }, map);
    }
    const { wx, idx, val, out, idxAt, valAt, outAt } = this.wasm;
    let n = 0;
    for (let p = 0; p < l.L; p++) {
      const r = rho[movieIds[p]];
      if (r !== r) continue;
      idx[n] = p;
      val[n++] = r;
    }
    if (n === 0) return null;
    for (let g = 0; g < l.stride; g += GROUP) wx.v16(idxAt, idxAt + n * 4, valAt, l.base + g * 8, l.stride * 8, outAt + g * 8);
    return out.slice(0, l.L);
  }
}
