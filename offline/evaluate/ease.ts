// EASE^R (Steck 2019) as an evaluation baseline, computing what ../shared/eval/strong_baselines.py
// computes: B = I − P·diag(1/diag P) with the diagonal zeroed, P = (XᵀX + λI)⁻¹, score(u) = w_u·B, the
// user's TRAIN movies removed, ranked by score desc then movieId asc (its lexsort((items, −s))). Two
// variants: `ease` (binary rows w_u = x_u, best λ at half-life 0) and `ease-recency` (w_ui =
// 0.5^((last_u − t_ui) / (halfLife·86400)), last_u = the user's latest TRAIN timestamp; best (λ,
// half-life) of the whole grid). Both are chosen on a validation carve of TRAIN (each user's last 20 %
// of TRAIN rows by (timestamp, movieId)), never on TEST, with that script's tie rule (max over
// (ndcg, λ, halfLife) tuples: an exact tie goes to the larger λ, then the larger half-life).
//
// The arithmetic differs from the script's (numpy's explicit inverse of the items × items matrix),
// the result does not: for an unseen movie j, w_u·B[:, j] = −(w_u·P)[j] / P_jj, the zeroed diagonal
// only touches seen movies. When there are fewer users m than movies n (ml-latest-small: 610 against
// ~8,000) P comes from the Woodbury identity
//     P = (1/λ)·(I − Xᵀ·K⁻¹·X),   K = XXᵀ + λI   (m × m)
// so score_j = (R·X)[j] / (1 − x_jᵀ·K⁻¹·x_j) with R = w_u·Xᵀ·K⁻¹: one m × m inverse per λ instead of
// an n × n one (610³ instead of 8,000³ operations). With more users than movies the n × n inverse is
// taken directly ("primal"). Either way in float64; scores agree with the script's to rounding, so only
// exact ties can order differently (the script's noise against exact equality here; see EVALUATION.md).

import { InputError } from '../../functions/core/types';
import { K } from '../../functions/core/evaluate/protocol';
import { Recommendations, Recommender } from '../../functions/core/evaluate/score';
import { EvalSplit } from '../../functions/core/evaluate/split';
import { spdInverseInPlace } from './spd-inverse';
import { TopK } from './topk';

/** strong_baselines.py's defaults */
export const EASE_LAMBDAS: readonly number[] = [50, 100, 200, 400, 800, 1600];
export const EASE_HALF_LIVES: readonly number[] = [0, 30, 90, 365, 1000];
export const EASE_VALIDATION_FRACTION = 0.2;
/** Largest dense matrix (values) the fit allocates: 2^27 float64 = 1 GiB, i.e. min(users, movies) up
 * to 11,585. */
export const EASE_MAX_DENSE = 2 ** 27;

/** A user × movie matrix with a timestamp per non-zero: rows = rowIds (ascending), columns = colIds
 * (ascending), each row's columns ascending. */
export interface EaseRows {
  rowIds: number[];
  colIds: number[];
  indptr: Int32Array;
  indices: Int32Array;
  times: Float64Array;
}

/** Each user's TRAIN rows with their timestamps (the matrix EASE^R is fitted on for TEST). */
export function trainRows(split: EvalSplit): EaseRows {
  const tr = split.train;
  if (!tr.timestamps) throw new InputError('no_timestamps', 'EASE^R needs the TRAIN timestamps (its validation carve is temporal).');
  const nRows = split.userIds.length;
  const order = rowsByUser(tr.users, nRows);
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(tr.length);
  const times = new Float64Array(tr.length);
  let e = 0;
  for (let r = 0; r < nRows; r++) {
    const rows = order[r].sort((a, b) => tr.movies[a] - tr.movies[b]);
    for (const i of rows) {
      indices[e] = tr.movies[i];
      times[e++] = tr.timestamps[i];
    }
    indptr[r + 1] = e;
  }
  return { rowIds: split.userIds.slice(), colIds: split.movieIds.slice(), indptr, indices, times };
}

export interface ValidationCarve {
  /** the first ⌊0.8·n⌋ (at least 1) TRAIN rows of each user, by (timestamp, movieId) */
  fit: EaseRows;
  /** userId → the rest of that user's TRAIN movies (raw ids), for users that have any, ascending userId */
  held: Map<number, Set<number>>;
}

/** strong_baselines.py's carve(): per user, TRAIN rows sorted by (timestamp, movieId); the first
 * max(1, floor(n·(1 − fraction))) are fitted on, the rest held out. Columns of `fit` are the movies
 * that remain in it. */
export function validationCarve(split: EvalSplit, fraction = EASE_VALIDATION_FRACTION): ValidationCarve {
  const tr = split.train;
  const ts = tr.timestamps;
  if (!ts) throw new InputError('no_timestamps', 'EASE^R needs the TRAIN timestamps (its validation carve is temporal).');
  const nUsers = split.userIds.length;
  const order = rowsByUser(tr.users, nUsers);
  const fitRows: number[][] = [];
  const held = new Map<number, Set<number>>();
  const inFit = new Uint8Array(split.movieIds.length);
  for (let r = 0; r < nUsers; r++) {
    // movie indices are in ascending-id order, so they order ties exactly as movieId does
    const rows = order[r].sort((a, b) => ts[a] - ts[b] || tr.movies[a] - tr.movies[b]);
    const cut = Math.max(1, Math.floor(rows.length * (1 - fraction)));
    const fit = rows.slice(0, cut);
    fitRows.push(fit);
    for (const i of fit) inFit[tr.movies[i]] = 1;
    if (rows.length > cut) held.set(split.userIds[r], new Set(rows.slice(cut).map((i) => split.movieIds[tr.movies[i]])));
  }
  const col = new Int32Array(split.movieIds.length).fill(-1);
  const colIds: number[] = [];
  for (let c = 0; c < inFit.length; c++) {
    if (inFit[c]) {
      col[c] = colIds.length;
      colIds.push(split.movieIds[c]);
    }
  }
  const rowIds: number[] = [];
  const indptr: number[] = [0];
  const indices: number[] = [];
  const times: number[] = [];
  for (let r = 0; r < nUsers; r++) {
    if (fitRows[r].length === 0) continue;
    rowIds.push(split.userIds[r]);
    for (const i of fitRows[r].sort((a, b) => tr.movies[a] - tr.movies[b])) {
      indices.push(col[tr.movies[i]]);
      times.push(ts[i]);
    }
    indptr.push(indices.length);
  }
  return {
    fit: { rowIds, colIds, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), times: Float64Array.from(times) },
    held,
  };
}

function rowsByUser(users: Int32Array, nRows: number): number[][] {
  const out: number[][] = Array.from({ length: nRows }, () => []);
  for (let i = 0; i < users.length; i++) out[users[i]].push(i);
  return out;
}

/** The value of each non-zero: 1 for half-life 0, else 0.5^((last − t) / (halfLife · 86400)) with
 * `last` the row's latest timestamp. */
export function recencyWeights(x: EaseRows, halfLifeDays: number): Float64Array {
  const w = new Float64Array(x.indices.length).fill(1);
  if (!halfLifeDays) return w;
  const span = halfLifeDays * 86400.0;
  for (let r = 0; r < x.rowIds.length; r++) {
    let last = -Infinity;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) last = Math.max(last, x.times[p]);
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) w[p] = 0.5 ** ((last - x.times[p]) / span);
  }
  return w;
}

export type EaseForm = 'primal' | 'dual';

/** EASE^R fitted for one λ: scores weighted rows of the matrix it was fitted on. */
export interface EaseModel {
  form: EaseForm;
  lambda: number;
  /** For the row whose non-zeros are cols[start..end) and each weighting h (several at once, so the
   * grid's half-lives share one pass over the fitted matrix): outs[h][j] = w_h·B[:, j] for every column
   * j NOT among those cols (values at them are meaningless). The result for one weighting does not
   * depend on which others are scored with it. */
  score(cols: Int32Array, start: number, end: number, weights: readonly Float64Array[], outs: readonly Float64Array[]): void;
}

/** Columns per chunk when one row of the fitted matrix is applied to several weightings: the chunk
 * (8 KiB) stays in L1 while every weighting uses it. */
const CHUNK = 1024;

/** Fits EASE^R on the binary matrix `x` (its times are not used here). `form` defaults to the cheaper
 * one: 'dual' (an m × m inverse) when there are fewer rows than columns, else 'primal' (n × n). */
export function fitEase(x: EaseRows, lambda: number, form?: EaseForm): EaseModel {
  const m = x.rowIds.length;
  const n = x.colIds.length;
  const f = form ?? (m < n ? 'dual' : 'primal');
  const d = f === 'dual' ? m : n;
  const values = d * d + (f === 'dual' ? n * m : 0);
  if (values > EASE_MAX_DENSE) {
    throw new InputError(
      'too_large',
      `EASE^R needs dense ${f === 'dual' ? `${m} × ${m} and ${n} × ${m}` : `${n} × ${n}`} float64 matrices here (${((values * 8) / 2 ** 30).toFixed(1)} GiB), more than this offline baseline allows (${(EASE_MAX_DENSE * 8) / 2 ** 30} GiB): evaluate it on a smaller ratings file.`,
    );
  }
  if (!(lambda > 0)) throw new InputError('bad_arg', `EASE^R's λ must be positive, got ${lambda}.`);
  return f === 'dual' ? fitDual(x, lambda) : fitPrimal(x, lambda);
}

function fitPrimal(x: EaseRows, lambda: number): EaseModel {
  const n = x.colIds.length;
  const { indptr, indices } = x;
  // G = XᵀX + λI, lower triangle (row columns are ascending, so indices[q] ≤ indices[p])
  const p = new Float64Array(n * n);
  for (let r = 0; r < x.rowIds.length; r++) {
    for (let a = indptr[r]; a < indptr[r + 1]; a++) {
      const ra = indices[a] * n;
      for (let b = indptr[r]; b <= a; b++) p[ra + indices[b]] += 1;
    }
  }
  for (let j = 0; j < n; j++) p[j * n + j] += lambda;
  spdInverseInPlace(p, n);
  const diag = new Float64Array(n);
  for (let j = 0; j < n; j++) diag[j] = p[j * n + j];
  return {
    form: 'primal',
    lambda,
    score(cols, start, end, weights, outs) {
      for (const out of outs) out.fill(0, 0, n);
      // the sum over the row's columns runs in ascending q for every j, whatever the chunking
      for (let j0 = 0; j0 < n; j0 += CHUNK) {
        const j1 = Math.min(n, j0 + CHUNK);
        for (let q = start; q < end; q++) {
          const ri = cols[q] * n;
          for (let h = 0; h < outs.length; h++) {
            const w = weights[h][q];
            const out = outs[h];
            for (let j = j0; j < j1; j++) out[j] += w * p[ri + j];
          }
        }
      }
      for (const out of outs) for (let j = 0; j < n; j++) out[j] = -out[j] / diag[j];
    },
  };
}

function fitDual(x: EaseRows, lambda: number): EaseModel {
  const m = x.rowIds.length;
  const n = x.colIds.length;
  const { cptr, crows } = columns(x);
  // K = XXᵀ + λI, lower triangle, from each column's rows (ascending, so crows[b] ≤ crows[a])
  const kinv = new Float64Array(m * m);
  for (let j = 0; j < n; j++) {
    for (let a = cptr[j]; a < cptr[j + 1]; a++) {
      const ra = crows[a] * m;
      for (let b = cptr[j]; b <= a; b++) kinv[ra + crows[b]] += 1;
    }
  }
  for (let v = 0; v < m; v++) kinv[v * m + v] += lambda;
  spdInverseInPlace(kinv, m);
  // Qᵀ = (K⁻¹X)ᵀ: row j = Σ over the column's rows v of K⁻¹[v, ·] (K⁻¹ is symmetric)
  const qt = new Float64Array(n * m);
  const den = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const rj = j * m;
    for (let a = cptr[j]; a < cptr[j + 1]; a++) {
      const rv = crows[a] * m;
      for (let v = 0; v < m; v++) qt[rj + v] += kinv[rv + v];
    }
    // λ·P_jj = 1 − x_jᵀK⁻¹x_j
    let s = 0;
    for (let a = cptr[j]; a < cptr[j + 1]; a++) s += qt[rj + crows[a]];
    den[j] = 1 - s;
  }
  const rrows: Float64Array[] = [];
  return {
    form: 'dual',
    lambda,
    score(cols, start, end, weights, outs) {
      while (rrows.length < outs.length) rrows.push(new Float64Array(m));
      // R_h = w_h·Xᵀ·K⁻¹ = Σ_i w_h,i·Qᵀ[i, ·]; weightings go in pairs so each Qᵀ row is read once per
      // pair and the two sums are independent (each still summed in ascending q, as when alone)
      const H = outs.length;
      for (let h = 0; h < H; h++) rrows[h].fill(0);
      for (let q = start; q < end; q++) {
        const ri = cols[q] * m;
        let h = 0;
        for (; h + 1 < H; h += 2) {
          const w0 = weights[h][q];
          const w1 = weights[h + 1][q];
          const r0 = rrows[h];
          const r1 = rrows[h + 1];
          for (let v = 0; v < m; v++) {
            const x = qt[ri + v];
            r0[v] += w0 * x;
            r1[v] += w1 * x;
          }
        }
        if (h < H) {
          const w = weights[h][q];
          const r = rrows[h];
          for (let v = 0; v < m; v++) r[v] += w * qt[ri + v];
        }
      }
      // w·B[:, j] = (R·X)[j] / (1 − x_jᵀK⁻¹x_j) for j unseen (the 1/λ factors cancel)
      let h = 0;
      for (; h + 1 < H; h += 2) {
        const r0 = rrows[h];
        const r1 = rrows[h + 1];
        const out0 = outs[h];
        const out1 = outs[h + 1];
        for (let j = 0; j < n; j++) {
          let s0 = 0;
          let s1 = 0;
          for (let a = cptr[j]; a < cptr[j + 1]; a++) {
            const v = crows[a];
            s0 += r0[v];
            s1 += r1[v];
          }
          out0[j] = s0 / den[j];
          out1[j] = s1 / den[j];
        }
      }
      if (h < H) {
        const r = rrows[h];
        const out = outs[h];
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let a = cptr[j]; a < cptr[j + 1]; a++) s += r[crows[a]];
          out[j] = s / den[j];
        }
      }
    },
  };
}

/** CSC view: rows of column j are crows[cptr[j] .. cptr[j+1]], ascending. */
function columns(x: EaseRows): { cptr: Int32Array; crows: Int32Array } {
  const n = x.colIds.length;
  const cptr = new Int32Array(n + 1);
  for (let p = 0; p < x.indices.length; p++) cptr[x.indices[p] + 1]++;
  for (let j = 0; j < n; j++) cptr[j + 1] += cptr[j];
  const fill = cptr.slice(0, n);
  const crows = new Int32Array(x.indices.length);
  for (let r = 0; r < x.rowIds.length; r++) {
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) crows[fill[x.indices[p]]++] = r;
  }
  return { cptr, crows };
}

/** Top-k lists for the rows of `x` whose user ids are in `users` (all rows when omitted): score desc,
 * then movieId asc, the row's own movies last (at −∞, as the script's lexsort leaves them, so a list is
 * always min(k, movies) long). */
export function easeRecommend(
  model: EaseModel,
  x: EaseRows,
  weights: Float64Array,
  k: number = K,
  users?: ReadonlySet<number>,
): Recommendations {
  return easeRecommendEach(model, x, [weights], k, users)[0];
}

/** easeRecommend for several weightings of the same rows in one pass (one list set per weighting). */
export function easeRecommendEach(
  model: EaseModel,
  x: EaseRows,
  weights: readonly Float64Array[],
  k: number = K,
  users?: ReadonlySet<number>,
): Recommendations[] {
  const n = x.colIds.length;
  const scores = weights.map(() => new Float64Array(n));
  const top = new TopK(k);
  const recs: Map<number, readonly number[]>[] = weights.map(() => new Map());
  for (let r = 0; r < x.rowIds.length; r++) {
    if (users && !users.has(x.rowIds[r])) continue;
    const start = x.indptr[r];
    const end = x.indptr[r + 1];
    model.score(x.indices, start, end, weights, scores);
    scores.forEach((s, h) => {
      for (let p = start; p < end; p++) s[x.indices[p]] = -Infinity;
      top.reset();
      for (let j = 0; j < n; j++) top.offer(s, j);
      recs[h].set(
        x.rowIds[r],
        top.result(s).map((c) => x.colIds[c]),
      );
    });
  }
  return recs;
}

/** NDCG@k of `recs` against `truth` exactly as strong_baselines.py's ndcg(): averaged over the truth
 * users in ascending id, a missing list scoring 0, IDCG summed the way numpy sums (pairwise, blocks of
 * 8) so exact ties between grid points compare as they do there. */
export function heldOutNdcg(recs: Recommendations, truth: Map<number, Set<number>>, k: number = K): number {
  const disc = Array.from({ length: k }, (_, i) => 1 / Math.log2(i + 2));
  const idcg = Array.from({ length: k + 1 }, (_, c) => numpySum(disc.slice(0, c)));
  let tot = 0;
  let n = 0;
  for (const u of [...truth.keys()].sort((a, b) => a - b)) {
    const t = truth.get(u)!;
    n++;
    const rl = recs.get(u) ?? [];
    let dcg = 0;
    for (let i = 0; i < Math.min(k, rl.length); i++) if (t.has(rl[i])) dcg += disc[i];
    tot += dcg / idcg[Math.min(k, t.size)];
  }
  return tot / n;
}

/** numpy's float64 add.reduce of a short contiguous array: 0 + pairwise_sum (8 accumulators from 8
 * elements on, then the rest one by one; blocks beyond 128 are not needed for k ≤ 128). */
function numpySum(a: number[]): number {
  if (a.length < 8) return a.reduce((s, v) => s + v, 0);
  if (a.length > 128) throw new RangeError('numpySum: k > 128');
  const r = a.slice(0, 8);
  let i = 8;
  for (; i < a.length - (a.length % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[i + j];
  let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < a.length; i++) res += a[i];
  return 0 + res;
}

export interface EaseGridPoint {
  lambda: number;
  halfLifeDays: number;
  /** NDCG@k on the validation carve */
  ndcg: number;
}

export interface EaseSelection {
  grid: EaseGridPoint[];
  /** the best λ at half-life 0 (variant `ease`) */
  plain: EaseGridPoint;
  /** the best point of the whole grid (variant `ease-recency`) */
  recency: EaseGridPoint;
}

export interface EaseOptions {
  lambdas?: readonly number[];
  halfLives?: readonly number[];
  validationFraction?: number;
  /** forces the primal or the dual computation (tests compare them) */
  form?: EaseForm;
  /** sees each validation point as it is scored */
  onGridPoint?: (p: EaseGridPoint) => void;
}

/** Python's max() over (ndcg, λ, halfLife) tuples: an exact NDCG tie goes to the larger λ, then to
 * the larger half-life. */
export function bestEasePoint(points: readonly EaseGridPoint[]): EaseGridPoint {
  const better = (a: EaseGridPoint, b: EaseGridPoint) =>
    a.ndcg > b.ndcg || (a.ndcg === b.ndcg && (a.lambda > b.lambda || (a.lambda === b.lambda && a.halfLifeDays > b.halfLifeDays)));
  return points.reduce((a, b) => (better(b, a) ? b : a));
}

/** Scores every (λ, half-life) of the grid on the validation carve of the split's TRAIN (one fit per λ
 * serves every half-life) and picks both variants' settings. */
export function selectEase(split: EvalSplit, opts: EaseOptions = {}, k: number = K): EaseSelection {
  const lambdas = opts.lambdas ?? EASE_LAMBDAS;
  const halfLives = opts.halfLives ?? EASE_HALF_LIVES;
  if (lambdas.length === 0 || halfLives.length === 0) throw new InputError('bad_arg', 'EASE^R needs at least one λ and one half-life.');
  const { fit, held } = validationCarve(split, opts.validationFraction);
  const users = new Set(held.keys());
  const weights = halfLives.map((hl) => recencyWeights(fit, hl));
  const grid: EaseGridPoint[] = [];
  for (const lambda of lambdas) {
    const lists = easeRecommendEach(fitEase(fit, lambda, opts.form), fit, weights, k, users);
    halfLives.forEach((hl, h) => {
      const point = { lambda, halfLifeDays: hl, ndcg: heldOutNdcg(lists[h], held, k) };
      grid.push(point);
      opts.onGridPoint?.(point);
    });
  }
  const plainPoints = grid.filter((p) => p.halfLifeDays === 0);
  if (plainPoints.length === 0) throw new InputError('bad_arg', 'EASE^R needs half-life 0 in its grid (the plain variant).');
  return { grid, plain: bestEasePoint(plainPoints), recency: bestEasePoint(grid) };
}

export type EaseVariant = 'plain' | 'recency';

/** The selection of one split and grid, shared by the two variants' recommenders (so `--models
 * ease,ease-recency` scores the grid once). */
const selections = new WeakMap<EvalSplit, Map<string, EaseSelection>>();

export function easeSelection(split: EvalSplit, opts: EaseOptions = {}, k: number = K): EaseSelection {
  const key = JSON.stringify([opts.lambdas ?? EASE_LAMBDAS, opts.halfLives ?? EASE_HALF_LIVES, opts.validationFraction ?? EASE_VALIDATION_FRACTION, opts.form ?? null, k]);
  let bySplit = selections.get(split);
  if (!bySplit) selections.set(split, (bySplit = new Map()));
  let sel = bySplit.get(key);
  if (!sel) bySplit.set(key, (sel = selectEase(split, opts, k)));
  return sel;
}

/** EASE^R as a Recommender: selects on the validation carve, refits on the whole TRAIN with the
 * variant's (λ, half-life) and ranks for every user. `onSelected` sees the choice. */
export function easeRecommender(
  variant: EaseVariant,
  opts: EaseOptions & { onSelected?: (chosen: EaseGridPoint, selection: EaseSelection) => void } = {},
): Recommender {
  return async (split, k = K) => {
    const selection = easeSelection(split, opts, k);
    const chosen = variant === 'plain' ? selection.plain : selection.recency;
    opts.onSelected?.(chosen, selection);
    const x = trainRows(split);
    return easeRecommend(fitEase(x, chosen.lambda, opts.form), x, recencyWeights(x, chosen.halfLifeDays), k);
  };
}
