// The inverse of a dense symmetric positive definite matrix, in float64, for EASE^R (ease.ts). Written
// here rather than taken from a library on purpose: the JavaScript linear-algebra packages either work
// on arrays of arrays (ml-matrix: slower, and 8 bytes of pointer per entry on top) or are WebAssembly
// builds of LAPACK far heavier than the ~60 lines an offline baseline needs; what matters for the
// 4-decimal agreement with numpy is float64 and a backward-stable method, which Cholesky is.
//
// Row-major n × n in one Float64Array, in place (one n² buffer, no copies):
//   1. Cholesky A = L·Lᵀ (Cholesky–Banachiewicz: row by row, every inner loop a dot product of two
//      contiguous rows), L in the lower triangle;
//   2. M = L⁻¹, row i = (eᵢ − Σ_{k<i} L[i][k]·M[k]) / L[i][i], lower triangle;
//   3. A⁻¹ = Mᵀ·M, row i = Σ_{k≥i} M[k][i]·M[k][0..i], then mirrored into the upper triangle.
// Each step is n³/6 multiply-adds with contiguous inner loops.

/** Replaces the SPD matrix `a` (row-major n × n; only the lower triangle is read) by its inverse (both
 * triangles). Throws RangeError when `a` is not numerically positive definite. `row` is scratch of
 * length ≥ n. */
export function spdInverseInPlace(a: Float64Array, n: number, row: Float64Array = new Float64Array(n)): Float64Array {
  if (a.length < n * n) throw new RangeError(`matrix buffer holds ${a.length} values, need ${n}² = ${n * n}`);
  // 1. Cholesky, lower
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
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
  // 2. M = L⁻¹ (row i of M needs L's row i, so it is built in `row` and written back)
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    row.fill(0, 0, i + 1);
    for (let k = 0; k < i; k++) {
      const f = a[ri + k];
      if (f === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) row[j] -= f * a[rk + j];
    }
    const inv = 1 / a[ri + i];
    row[i] = 1;
    for (let j = 0; j <= i; j++) a[ri + j] = row[j] * inv;
  }
  // 3. Mᵀ·M; row i of the result needs rows k ≥ i of M only, so rows are overwritten in ascending order
  for (let i = 0; i < n; i++) {
    row.fill(0, 0, i + 1);
    for (let k = i; k < n; k++) {
      const rk = k * n;
      const f = a[rk + i];
      if (f === 0) continue;
      for (let j = 0; j <= i; j++) row[j] += f * a[rk + j];
    }
    const ri = i * n;
    for (let j = 0; j <= i; j++) a[ri + j] = row[j];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}
