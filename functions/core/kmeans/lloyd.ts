// One K-means restart: seeding, then Lloyd iterations with Elkan bounds until the centres move less than
// the tolerance (or maxIter), with scikit-learn's relocation of empty clusters.
import { KMeansOptions } from '../types';
import { type KernelState, OP_ASSIGN, OP_ASSIGN_SEEDED, OP_CENTRES, OP_INERTIA, OP_SUMS } from './kernels';
import { RandomState } from './mt19937';
import type { Executor } from './pool';
import { blockSum, MainState } from './state';
import { computeHalfDistances, seedPlusPlus, setCentresFromRows } from './seeding';

export async function runInit(
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
/** centres as k × nCols row-major */
export function untranspose(S: KernelState): Float64Array {
  const { k, kp, d, ct } = S;
  const out = new Float64Array(k * d);
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) out[c * d + j] = ct[j * kp + c];
  return out;
}
