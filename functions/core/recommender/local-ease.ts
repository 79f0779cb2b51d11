// Cluster-local EASE: for each cluster list of L movies, B = −P / diag(P) with P = (G + λ·I)⁻¹, where G
// counts how many of the Gram users have both movies of a pair (G[i][i]: how many have movie i) and
// λ = λ_rel · mean(diag G) (scale-free; 1 when the diagonal is all 0). The Gram users are everyone or a
// seeded sample; every list's G is cut from ONE co-occurrence table over the union of the lists' movies,
// which costs a user |movies ∩ union|² / 2 additions once instead of once per list holding them.
//
// The inverse is a Cholesky one written here on Float64Array: G + λI is symmetric positive definite, and a
// matrix library's object-per-row matrices cost several times more for the hundreds of 100 × 100 inverses a
// training needs (test/unit/local-ease.test.ts checks it against ml-matrix's inverse).
import { CsrMatrix } from '../types';

/** Co-occurrence counts over a set of columns, upper triangle of a U × U table (union position order). */
export interface UnionGram {
  /** matrix column → its position in the union, −1 outside */
  pos: Int32Array;
  size: number;
  /** g[a·U + b] for a ≤ b: users having both (a = b: users having it) */
  g: Uint32Array;
  /** Gram users counted */
  users: number;
}

/**
 * Co-occurrences of the `cols` columns over `rows` of x (all rows when null), entries marked in `skip` left
 * out. With `cap` and `ages` (each entry's age in its row, 0 = newest), a row contributes only its `cap`
 * newest entries (by age: with held-out entries skipped, a few fewer).
 */
export function unionGram(
  x: CsrMatrix,
  cols: Iterable<number>,
  rows: ArrayLike<number> | null = null,
  opts: { cap?: number; ages?: Int32Array; skip?: Uint8Array } = {},
): UnionGram {
  const pos = new Int32Array(x.nCols).fill(-1);
  const inUnion = new Uint8Array(x.nCols);
  for (const c of cols) inUnion[c] = 1;
  let U = 0;
  for (let c = 0; c < x.nCols; c++) if (inUnion[c]) pos[c] = U++;
  const g = new Uint32Array(U * U);
  const cap = opts.cap ?? Infinity;
  const ages = Number.isFinite(cap) ? opts.ages : undefined;
  const skip = opts.skip;
  const nRows = rows ? rows.length : x.nRows;
  const hit = new Int32Array(Math.max(1, U));
  for (let t = 0; t < nRows; t++) {
    const r = rows ? rows[t] : t;
    // the row's union positions, ascending (columns ascend within a row and pos preserves their order)
    let m = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const q = pos[x.indices[p]];
      if (q < 0 || (ages && ages[p] >= cap) || (skip && skip[p])) continue;
      hit[m++] = q;
    }
    for (let a = 0; a < m; a++) {
      const base = hit[a] * U;
      for (let b = a; b < m; b++) g[base + hit[b]]++;
    }
  }
  return { pos, size: U, g, users: nRows };
}

/** B of one list (its movies as matrix columns, in list order) from the union table, as float32. */
export function localB(gram: UnionGram, listCols: ArrayLike<number>, lambdaRel: number): Float32Array {
  const L = listCols.length;
  const U = gram.size;
  const at = new Int32Array(L);
  for (let i = 0; i < L; i++) {
    const q = gram.pos[listCols[i]];
    if (q < 0) throw new Error(`localB: column ${listCols[i]} is not in the Gram's union`);
    at[i] = q;
  }
  const a = new Float64Array(L * L);
  let diag = 0;
  for (let i = 0; i < L; i++) {
    for (let j = i; j < L; j++) {
      const pi = at[i];
      const pj = at[j];
      const v = pi <= pj ? gram.g[pi * U + pj] : gram.g[pj * U + pi];
      a[i * L + j] = v;
      a[j * L + i] = v;
    }
    diag += a[i * L + i];
  }
  let lambda = L > 0 ? lambdaRel * (diag / L) : 0;
  if (!(lambda > 0)) lambda = 1;
  for (let i = 0; i < L; i++) a[i * L + i] += lambda;
  const p = spdInverse(a, L);
  const b = new Float32Array(L * L);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) b[i * L + j] = i === j ? 0 : -p[i * L + j] / p[j * L + j];
  }
  return b;
}

/** The inverse of a symmetric positive definite n × n matrix (row-major; `a` is overwritten). */
export function spdInverse(a: Float64Array, n: number): Float64Array {
  // Cholesky a = l·lᵀ, l lower triangular, in place in a's lower triangle
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) throw new Error('spdInverse: the matrix is not positive definite');
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
  }
  // m = l⁻¹ (lower triangular), stored transposed (mt[j·n + i] = m[i][j]) so the product below reads rows
  const mt = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    mt[j * n + j] = 1 / a[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s += a[ri + k] * mt[j * n + k];
      mt[j * n + i] = -s / a[ri + i];
    }
  }
  // a⁻¹ = mᵀ·m: entry (i, j) = Σ_{k ≥ max(i, j)} m[k][i]·m[k][j] = Σ_k mt[i][k]·mt[j][k]
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = j; k < n; k++) s += mt[ri + k] * mt[rj + k];
      out[ri + j] = s;
      out[rj + i] = s;
    }
  }
  return out;
}
