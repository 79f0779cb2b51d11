// The WebAssembly SIMD assignment path (simd.wat → simd-wasm.ts → assignSimdKernel): the committed bytes
// are simd.wat's, every export computes the scalar kernel's dot products bit for bit, and the engine
// gives identical results with and without it (binary and weighted rows, one group of 16 centres and
// several, a partial last group, 1 and 2 threads).
import { readFileSync } from 'node:fs';
import { kmeans, simdAvailable } from '../../functions/core/kmeans';
import { SIMD_WASM_BASE64 } from '../../functions/core/kmeans/simd-wasm';
import { CsrMatrix, KMeansOptions, KMeansResult } from '../../functions/core/types';
import { compileWat, OUT, renderTs } from '../../tools/wasm-lib';
import { plantedBinary } from './kmeans-helpers';

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('this runtime has WebAssembly SIMD with shared memory (Node ≥ 16.4; the Lambda runtimes do)', () => {
  expect(simdAvailable()).toBe(true);
});

test('simd-wasm.ts holds exactly what simd.wat compiles to (run `npm run build:wasm` after editing it)', async () => {
  const bytes = await compileWat();
  expect(Buffer.from(SIMD_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
  expect(readFileSync(OUT, 'utf8')).toBe(renderTs(bytes));
});

describe('simd.wat exports against the scalar definition', () => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const wx = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64')), {
    env: { mem: memory },
  }).exports as Record<string, (...a: number[]) => void>;
  const buf = memory.buffer;
  const d = 50;
  const kp = 20; // stride of 20 centres; groups start at centre 0 or 4
  const nnz = 37;
  const ct = new Float64Array(buf, 0, d * kp);
  const idx = new Int32Array(buf, ct.byteLength, nnz);
  const vals = new Float64Array(buf, ct.byteLength + idx.byteLength + 4, nnz);
  const out = new Float64Array(buf, vals.byteOffset + vals.byteLength, 16);
  let s = 99;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < ct.length; i++) ct[i] = rnd() * 10 ** Math.floor(rnd() * 6); // mixed magnitudes: order matters
  for (let p = 0; p < nnz; p++) {
    idx[p] = Math.floor(((rnd() + 1) / 2) * d);
    vals[p] = rnd() * 3;
  }

  test.each([4, 8, 12, 16])('width %i, binary and weighted, two offsets into the row', (w) => {
    for (const [p0, cb] of [
      [0, 0],
      [5, 4],
    ]) {
      const want = new Float64Array(w);
      const wantV = new Float64Array(w);
      for (let p = p0; p < nnz; p++) {
        for (let c = 0; c < w; c++) {
          want[c] += ct[idx[p] * kp + cb + c];
          wantV[c] += vals[p] * ct[idx[p] * kp + cb + c];
        }
      }
      out.fill(NaN);
      wx[`b${w}`](idx.byteOffset + p0 * 4, idx.byteOffset + nnz * 4, ct.byteOffset + cb * 8, kp * 8, out.byteOffset);
      expect(bits(out.slice(0, w))).toEqual(bits(want));
      out.fill(NaN);
      wx[`v${w}`](idx.byteOffset + p0 * 4, idx.byteOffset + nnz * 4, vals.byteOffset + p0 * 8, ct.byteOffset + cb * 8, kp * 8, out.byteOffset);
      expect(bits(out.slice(0, w))).toEqual(bits(wantV));
      expect(Number.isNaN(out[w] ?? NaN)).toBe(true); // writes exactly w values
    }
  });

  test('an empty row gives zeros', () => {
    out.fill(NaN);
    wx.b16(idx.byteOffset, idx.byteOffset, ct.byteOffset, kp * 8, out.byteOffset);
    expect(Array.from(out)).toEqual(new Array(16).fill(0));
  });
});

describe('engine: SIMD on and off give identical results', () => {
  const x = plantedBinary(1500, 150, 9, 0.3, 0.03, 23);
  const weighted: CsrMatrix = { ...x, values: new Float64Array(x.indices.length).map((_, p) => 0.25 + ((p * 7919) % 13) / 5) };
  const same = (a: KMeansResult, b: KMeansResult) => {
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.iterations).toBe(b.iterations);
    expect(a.inertias).toEqual(b.inertias);
    expect(bits(a.centroids).equals(bits(b.centroids))).toBe(true);
  };
  // k 3 and 16: one group; 17: a group of 16 plus one of 4; 40: 16 + 16 + 8
  test.each([
    [3, 'binary'],
    [16, 'binary'],
    [17, 'weighted'],
    [40, 'binary'],
    [40, 'weighted'],
  ] as const)('k=%i, %s rows, threads 1 and 2', async (k, kind) => {
    const m = kind === 'binary' ? x : weighted;
    const o: KMeansOptions = { k, nInit: 2, maxIter: 300, tol: 1e-4, randomState: 3 };
    const scalar = await kmeans(m, { ...o, threads: 1, simd: false });
    for (const threads of [1, 2]) same(await kmeans(m, { ...o, threads, simd: true }), scalar);
    expect(scalar.iterations).toBeGreaterThan(1);
  });

  test('the reused engine memory: a call after a larger one (stale contents) and two concurrent calls', async () => {
    const o: KMeansOptions = { k: 6, nInit: 1, maxIter: 300, tol: 1e-4, randomState: 2, threads: 1 };
    const big = plantedBinary(3000, 400, 8, 0.3, 0.03, 5);
    const want = await kmeans(x, { ...o, simd: false });
    const wantBig = await kmeans(big, { ...o, simd: false });
    same(await kmeans(big, { ...o, simd: true }), wantBig); // leaves the memory at its largest, full of data
    same(await kmeans(x, { ...o, simd: true }), want);
    // the second of two calls at once cannot share the busy memory: it gets its own
    const [a, b] = await Promise.all([kmeans(big, { ...o, threads: 2, simd: true }), kmeans(x, { ...o, threads: 2, simd: true })]);
    same(a, wantBig);
    same(b, want);
  });

  test('MOVIEREC_KMEANS_SIMD=0 selects the scalar path (same answer)', async () => {
    const o: KMeansOptions = { k: 5, nInit: 1, maxIter: 300, tol: 1e-4, randomState: 1, threads: 1 };
    const before = process.env.MOVIEREC_KMEANS_SIMD;
    process.env.MOVIEREC_KMEANS_SIMD = '0';
    try {
      same(await kmeans(x, o), await kmeans(x, { ...o, simd: true }));
    } finally {
      if (before === undefined) delete process.env.MOVIEREC_KMEANS_SIMD;
      else process.env.MOVIEREC_KMEANS_SIMD = before;
    }
  });
});
