// Dot products of every row of a sparse matrix with a few hundred dense centres (the large-data path's two
// passes over all users: nearest K-means centroid, then each user's nearest cluster directions).
//
// The centres live transposed in groups of 16 (group-major: [group][column][16]), so a group's table is one
// contiguous block the rows of a block all read, and the engine's WebAssembly SIMD kernels (simd.wat:
// out[c] = Σ_p x_p · table[col_p · 16 + c], summed in ascending p, each product rounded before the add)
// compute 16 dot products per pass over a row's non-zeros. Without WebAssembly SIMD the same sums are made
// in JavaScript in the same order, so both give identical numbers (test/unit/dots.test.ts).
import { SIMD_WASM_BASE64 } from '../kmeans/simd-wasm';
import { simdAvailable } from '../kmeans';
import type { SimdExports } from '../kmeans/kernels';
import { CsrMatrix } from '../types';

const GROUP = 16;
/** rows per block: the group tables are walked once per block */
const BLOCK_ROWS = 1024;

export class CentreTable {
  readonly groups: number;
  /** [group][column][16] */
  readonly table: Float64Array;
  private readonly wasm: { memory: WebAssembly.Memory; wx: SimdExports; scratchAt: number; scratchCap: number } | null;

  constructor(
    readonly nCols: number,
    readonly nCentres: number,
    opts: { simd?: boolean; scratchEntries?: number } = {},
  ) {
    this.groups = Math.ceil(nCentres / GROUP);
    const tableBytes = this.groups * nCols * GROUP * 8;
    if ((opts.simd ?? true) && simdAvailable()) {
      // table, then per block: indices (int32), values (f64), output (BLOCK_ROWS × groups × 16 f64)
      const cap = Math.max(opts.scratchEntries ?? 1 << 20, 1);
      const outBytes = BLOCK_ROWS * this.groups * GROUP * 8;
      const bytes = tableBytes + cap * 4 + cap * 8 + outBytes + 256;
      const pages = Math.ceil(bytes / 65_536) + 1;
      if (pages <= 65_536) {
        const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
        const module = new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
        const wx = new WebAssembly.Instance(module, { env: { mem: memory } }).exports as unknown as SimdExports;
        this.wasm = { memory, wx, scratchAt: Math.ceil(tableBytes / 64) * 64, scratchCap: cap };
        this.table = new Float64Array(memory.buffer, 0, tableBytes / 8);
        return;
      }
    }
    this.wasm = null;
    this.table = new Float64Array(tableBytes / 8);
  }

  /** Centre `c`'s value at column `col`. */
  set(c: number, col: number, v: number): void {
    this.table[((c >> 4) * this.nCols + col) * GROUP + (c & 15)] = v;
  }

  get simd(): boolean {
    return this.wasm !== null;
  }

  /**
   * For each row r of x (all, in order, or `rows`), the dot products of the row with every centre:
   * dots[c] = Σ_{p in row r, not skip[p]} w_p · centre_c[col_p], with w_p = weights[p] (or weightOf(p)), or
   * 1 when neither is given. `visit` gets the row and a view it must not keep (reused for the next rows).
   */
  forEachRow(
    x: CsrMatrix,
    opts: { rows?: ArrayLike<number>; skip?: Uint8Array; weights?: Float64Array | null; weightOf?: (p: number) => number },
    visit: (r: number, dots: Float64Array) => void,
  ): void {
    const n = opts.rows ? opts.rows.length : x.nRows;
    const rowAt = (t: number) => (opts.rows ? opts.rows[t] : t);
    const skip = opts.skip;
    const array = opts.weights ?? null;
    const weights: ((p: number) => number) | null = array ? (p) => array[p] : opts.weightOf ?? null;
    const G = this.groups;
    const width = G * GROUP;
    if (this.wasm === null) {
      const dots = new Float64Array(width);
      for (let t = 0; t < n; t++) {
        const r = rowAt(t);
        dots.fill(0);
        for (let g = 0; g < G; g++) {
          const base = g * this.nCols * GROUP;
          const o = g * GROUP;
          for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
            if (skip && skip[p]) continue;
            const at = base + x.indices[p] * GROUP;
            if (weights === null) for (let c = 0; c < GROUP; c++) dots[o + c] += this.table[at + c];
            else {
              const w = weights(p);
              for (let c = 0; c < GROUP; c++) dots[o + c] += w * this.table[at + c];
            }
          }
        }
        visit(r, dots.subarray(0, this.nCentres));
      }
      return;
    }
    const { memory, wx, scratchAt, scratchCap } = this.wasm;
    const idxAt = scratchAt;
    const valAt = idxAt + Math.ceil((scratchCap * 4) / 64) * 64;
    const outAt = valAt + scratchCap * 8;
    const idx = new Int32Array(memory.buffer, idxAt, scratchCap);
    const val = new Float64Array(memory.buffer, valAt, scratchCap);
    const out = new Float64Array(memory.buffer, outAt, BLOCK_ROWS * width);
    const start = new Int32Array(BLOCK_ROWS + 1);
    const blockRows = new Int32Array(BLOCK_ROWS);
    const groupBytes = this.nCols * GROUP * 8;
    let t = 0;
    while (t < n) {
      // fill a block: as many rows as fit in the scratch (at least one)
      let m = 0;
      let w = 0;
      while (t < n && m < BLOCK_ROWS) {
        const r = rowAt(t);
        const len = x.indptr[r + 1] - x.indptr[r];
        if (m > 0 && w + len > scratchCap) break;
        if (len > scratchCap) throw new RangeError(`CentreTable: a row of ${len} entries exceeds the scratch of ${scratchCap}`);
        start[m] = w;
        for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
          if (skip && skip[p]) continue;
          idx[w] = x.indices[p];
          if (weights !== null) val[w] = weights(p);
          w++;
        }
        blockRows[m++] = r;
        t++;
      }
      start[m] = w;
      out.fill(0, 0, m * width);
      for (let g = 0; g < G; g++) {
        const ct = g * groupBytes;
        for (let i = 0; i < m; i++) {
          const ip = idxAt + start[i] * 4;
          const ie = idxAt + start[i + 1] * 4;
          const o = outAt + (i * width + g * GROUP) * 8;
          if (weights === null) wx.b16(ip, ie, ct, GROUP * 8, o);
          else wx.v16(ip, ie, valAt + start[i] * 8, ct, GROUP * 8, o);
        }
      }
      for (let i = 0; i < m; i++) visit(blockRows[i], out.subarray(i * width, i * width + this.nCentres));
    }
  }
}
