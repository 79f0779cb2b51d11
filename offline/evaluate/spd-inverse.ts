// The inverse of a dense symmetric positive definite matrix, in float64, for EASE^R (ease.ts). Written
// here rather than taken from a library on purpose: the JavaScript linear-algebra packages either work
// on arrays of arrays (ml-matrix: slower, and a pointer per row on top) or are WebAssembly builds of
// LAPACK far heavier than what an offline baseline needs; what matters for the 4-decimal agreement
// with numpy is float64 and a backward-stable method, which Cholesky is.
//
// Row-major n × n in one Float64Array, in place (one n² buffer, no copies):
//   1. Cholesky A = L·Lᵀ (Cholesky–Banachiewicz: row by row), L in the lower triangle;
//   2. M = L⁻¹, row i = (eᵢ − Σ_{k<i} L[i][k]·M[k]) / L[i][i], lower triangle;
//   3. A⁻¹ = Mᵀ·M, row i = Σ_{k≥i} M[k][i]·M[k][0..i], then mirrored into the upper triangle.
// Each step is n³/6 multiply-adds. Rows are processed four at a time: every row of the matrix read in
// the inner loops then serves four output rows (a quarter of the memory traffic, which is what bounds
// these loops once the matrix outgrows the cache) and gives four independent sums. On n = 1,500 that
// is ~3× faster than one row at a time (BENCHMARKS-style numbers in EVALUATION.md).

/** Replaces the SPD matrix `a` (row-major n × n; only the lower triangle is read) by its inverse (both
 * triangles). Throws RangeError when `a` is not numerically positive definite. */
export function spdInverseInPlace(a: Float64Array, n: number): Float64Array {
  if (a.length < n * n) throw new RangeError(`matrix buffer holds ${a.length} values, need ${n}² = ${n * n}`);
  const acc = new Float64Array(4 * n);
  cholesky(a, n);
  invertLower(a, n, acc);
  lowerGram(a, n, acc);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

/** Step 1, in place: the lower triangle becomes L. */
function cholesky(a: Float64Array, n: number): void {
  for (let i0 = 0; i0 < n; i0 += 4) {
    const nb = Math.min(4, n - i0);
    if (nb === 4) {
      // columns left of the block: four dot products per finished row j
      const r0 = i0 * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      for (let j = 0; j < i0; j++) {
        const rj = j * n;
        let s0 = a[r0 + j];
        let s1 = a[r1 + j];
        let s2 = a[r2 + j];
        let s3 = a[r3 + j];
        for (let k = 0; k < j; k++) {
          const x = a[rj + k];
          s0 -= a[r0 + k] * x;
          s1 -= a[r1 + k] * x;
          s2 -= a[r2 + k] * x;
          s3 -= a[r3 + k] * x;
        }
        const d = a[rj + j];
        a[r0 + j] = s0 / d;
        a[r1 + j] = s1 / d;
        a[r2 + j] = s2 / d;
        a[r3 + j] = s3 / d;
      }
    } else {
      for (let i = i0; i < n; i++) {
        const ri = i * n;
        for (let j = 0; j < i0; j++) {
          const rj = j * n;
          let s = a[ri + j];
          for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
          a[ri + j] = s / a[rj + j];
        }
      }
    }
    // inside the block
    for (let i = i0; i < i0 + nb; i++) {
      const ri = i * n;
      for (let j = i0; j <= i; j++) {
        const rj = j * n;
        let s = a[ri + j];
        for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
        if (j < i) {
          a[ri + j] = s / a[rj + j];
        } else {
          if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${i} is ${s})`);
          a[ri + i] = Math.sqrt(s);
        }
      }
    }
  }
}

/** Step 2, in place: L → M = L⁻¹ (lower). Row i of M needs L's row i, so it is accumulated in `acc`
 * (4 rows of n) and written back when done. */
function invertLower(a: Float64Array, n: number, acc: Float64Array): void {
  for (let i0 = 0; i0 < n; i0 += 4) {
    const nb = Math.min(4, n - i0);
    acc.fill(0, 0, 4 * n);
    if (nb === 4) {
      // rows of M above the block: each read once for the four rows
      const r0 = i0 * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      const o1 = n;
      const o2 = 2 * n;
      const o3 = 3 * n;
      for (let k = 0; k < i0; k++) {
        const f0 = a[r0 + k];
        const f1 = a[r1 + k];
        const f2 = a[r2 + k];
        const f3 = a[r3 + k];
        const rk = k * n;
        for (let j = 0; j <= k; j++) {
          const x = a[rk + j];
          acc[j] -= f0 * x;
          acc[o1 + j] -= f1 * x;
          acc[o2 + j] -= f2 * x;
          acc[o3 + j] -= f3 * x;
        }
      }
    } else {
      for (let b = 0; b < nb; b++) {
        const ri = (i0 + b) * n;
        const ob = b * n;
        for (let k = 0; k < i0; k++) {
          const f = a[ri + k];
          const rk = k * n;
          for (let j = 0; j <= k; j++) acc[ob + j] -= f * a[rk + j];
        }
      }
    }
    // inside the block, in order: row i needs the block's rows k < i, already written back
    for (let b = 0; b < nb; b++) {
      const i = i0 + b;
      const ri = i * n;
      const ob = b * n;
      for (let k = i0; k < i; k++) {
        const f = a[ri + k];
        const rk = k * n;
        for (let j = 0; j <= k; j++) acc[ob + j] -= f * a[rk + j];
      }
      acc[ob + i] = 1;
      const inv = 1 / a[ri + i];
      for (let j = 0; j <= i; j++) a[ri + j] = acc[ob + j] * inv;
    }
  }
}

/** Step 3, in place: M → the lower triangle of Mᵀ·M. Rows of the block are written back after the
 * whole block, since its rows k ≥ i are read by the block's earlier rows. */
function lowerGram(a: Float64Array, n: number, acc: Float64Array): void {
  for (let i0 = 0; i0 < n; i0 += 4) {
    const nb = Math.min(4, n - i0);
    acc.fill(0, 0, 4 * n);
    let kFrom = i0; // rows k ≥ kFrom are shared by all rows of the block
    if (nb === 4) {
      kFrom = i0 + 3;
      const o1 = n;
      const o2 = 2 * n;
      const o3 = 3 * n;
      for (let k = kFrom; k < n; k++) {
        const rk = k * n;
        const f0 = a[rk + i0];
        const f1 = a[rk + i0 + 1];
        const f2 = a[rk + i0 + 2];
        const f3 = a[rk + i0 + 3];
        for (let j = 0; j <= i0; j++) {
          const x = a[rk + j];
          acc[j] += f0 * x;
          acc[o1 + j] += f1 * x;
          acc[o2 + j] += f2 * x;
          acc[o3 + j] += f3 * x;
        }
        // columns i0+1 .. i of row i = i0+b
        acc[o1 + i0 + 1] += f1 * a[rk + i0 + 1];
        acc[o2 + i0 + 1] += f2 * a[rk + i0 + 1];
        acc[o2 + i0 + 2] += f2 * a[rk + i0 + 2];
        acc[o3 + i0 + 1] += f3 * a[rk + i0 + 1];
        acc[o3 + i0 + 2] += f3 * a[rk + i0 + 2];
        acc[o3 + i0 + 3] += f3 * a[rk + i0 + 3];
      }
    }
    // the rest: for nb = 4 the rows k in [i, i0+3), else every k ≥ i (tail block)
    const kTo = nb === 4 ? kFrom : n;
    for (let b = 0; b < nb; b++) {
      const i = i0 + b;
      const ob = b * n;
      for (let k = i; k < kTo; k++) {
        const rk = k * n;
        const f = a[rk + i];
        for (let j = 0; j <= i; j++) acc[ob + j] += f * a[rk + j];
      }
    }
    for (let b = 0; b < nb; b++) {
      const ri = (i0 + b) * n;
      const ob = b * n;
      for (let j = 0; j <= i0 + b; j++) a[ri + j] = acc[ob + j];
    }
  }
}
