// The default model on large data (more than taste.largeDataNnz interactions): the same model as train.ts
// builds, with everything that does not need every user done on samples, and every user touched by two
// passes over the matrix.
//
//  1. carve: two disjoint seeded samples of users with ≥ 5 movies, V (validation) and C (the publish
//     check); their last 20 % of movies are held out of everything below
//  2. K-means: E clusterings at a fixed k, each fitted on a seeded sample of other users (one restart,
//     at most kmeansMaxIter iterations)
//  3. pass 1 over every user: the nearest centroid of each clustering (the labels), counted per cluster
//     and movie in one dense table per clustering; then fixClusters' moves, the lists (top L) without and
//     with the held-out movies, and each cluster's direction (its final members' mean unit row)
//  4. co-occurrences over the union of the lists' movies, on a seeded sample of gramUsers other users,
//     each contributing its gramRowCap newest movies; one local EASE matrix per list and λ tried
//  5. selection of (h, T, λ_rel, β) on V by the coordinate walk (select.ts), k fixed
//  6. the check on C: the selected setting next to most-popular
//  7. pass 2 over every user: the mix (nearest directions of the recency-weighted row), and the final
//     model with the lists that count every movie
// Every step is a pure function of typed arrays; steps 1, 3 and 7 touch every user (map over users,
// reduce over clusters), the rest works on samples.
import { kmeans, releaseEngineMemory } from '../kmeans';
import { Rng } from '../kmeans/prng';
import { FixReport, MoveRecord } from '../cluster-lists';
import { scoreRecommendations } from '../evaluate/score';
import { EvalSplit } from '../evaluate/split';
import { MIN_INTERACTIONS } from '../evaluate/protocol';
import { CsrMatrix, InputError } from '../types';
import { assembleClEase, fitLocals, gramSample, ListCols, unionOf, userHistories } from './cl-ease';
import { CentreTable } from './dots';
import { entryAges, unitRows } from './features';
import { holdoutSplit } from './holdout';
import { unionGram } from './local-ease';
import { RecommenderParams } from './params';
import { searchSettings, SettingScorer, startSetting, ClusteringSet, SearchSpace, ValidationUsers } from './select';
import { mixFromNearest, Nearest } from './taste';
import type { RecommenderResult, TrainRecommenderOptions } from './train';
import { tasteSummary } from './train';
import { pickMetrics, verdict } from './verdict';

export async function trainLarge(
  x: CsrMatrix,
  p: RecommenderParams,
  opts: TrainRecommenderOptions,
  seconds: Record<string, number>,
  notes: string[],
): Promise<RecommenderResult> {
  let t0 = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    seconds[name] = (now - t0) / 1000;
    t0 = now;
  };
  const progress = (step: string) => opts.onProgress?.({ step });
  const tp = p.taste;
  const E = tp.ensemble;
  const k = Math.max(1, Math.min(tp.k, Math.floor(x.nRows / 6)));
  notes.push(`large-data path (${x.indptr[x.nRows]} interactions > ${tp.largeDataNnz}): k fixed at ${k}, K-means fitted on ${Math.min(tp.kmeansUsers, x.nRows)} sampled users, settings validated on ${tp.validationUsers} users and checked on ${tp.checkUsers} others.`);
  p.k = tp.k = k;

  progress('ages');
  const ages = opts.ages ?? (opts.times ? entryAges(x, opts.times) : undefined);
  if (!ages) {
    if (tp.halfLife > 0) notes.push('no timestamps: every movie of a user weighs the same (no recency weighting).');
    tp.halfLife = 0;
  }
  const carved = carveUsers(x, ages, tp.validationUsers, tp.checkUsers, p.randomState);
  lap('carve');

  // 2. K-means on a sample of the other users
  const pool = carved.others;
  const kmRows = gramSample(x.nRows, tp.kmeansUsers, p.randomState + 17, pool) ?? Int32Array.from(pool);
  const sample = unitRows(subRows(x, kmRows).x);
  const engine = opts.engine ?? kmeans;
  const centroids: Float64Array[] = [];
  const inertias: number[] = [];
  const iterations: number[] = [];
  for (let e = 0; e < E; e++) {
    progress(`k-means ${e + 1}/${E} (k=${k}, ${kmRows.length} users)`);
    const r = await engine(sample, {
      k,
      nInit: 1,
      maxIter: Math.min(p.maxIter, tp.kmeansMaxIter),
      tol: p.tol,
      randomState: (p.randomState + e) % 2 ** 32,
      threads: opts.threads,
      onProgress: (kp) => opts.onProgress?.({ step: `k-means ${e + 1}/${E} (k=${k})`, kmeans: kp }),
    });
    centroids.push(r.centroids);
    inertias.push(r.inertia);
    iterations.push(r.iterations);
  }
  releaseEngineMemory();
  lap('kmeans');

  // 3. pass 1: labels and counts; fixClusters' moves; lists; directions
  progress('assign every user');
  const table = new CentreTable(x.nCols, E * k, { scratchEntries: longestRow(x) + (1 << 18) });
  const assigned = assignAll(x, carved.skip, table, centroids, E, k);
  centroids.length = 0;
  const fixes = assigned.labels.map((labels, e) => fixLarge(x, carved.skip, labels, assigned.counts[e], k, e * k, p.minClusterSize));
  const fitLists = fixes.flatMap((f, e) => topLists(assigned.counts[e], f.sizes, x.nCols, k, e * k, tp.listLength));
  const popularity = columnTotals(assigned.counts[0], k, x.nCols);
  for (let e = 0; e < E; e++) addHeld(x, carved.skip, assigned.labels[e], assigned.counts[e]);
  const finalLists = fixes.flatMap((f, e) => topLists(assigned.counts[e], f.sizes, x.nCols, k, e * k, tp.listLength));
  assigned.counts.length = 0;
  directions(x, carved.skip, assigned.labels, table, E, k, fixes.map((f) => f.sizes));
  lap('lists');

  // 4. co-occurrences on a sample of the other users, newest movies first
  progress('co-occurrences');
  const gramRows = gramSample(x.nRows, tp.gramUsers, p.randomState + 1, pool) ?? Int32Array.from(pool);
  const gram = unionGram(x, unionOf([...fitLists, ...finalLists]), gramRows, { cap: tp.gramRowCap, ages });
  lap('gram');

  // 5. selection on V (k fixed), 6. the check on C
  const alive = fixes.map((f) => f.sizes.map((s) => s > 0));
  const nearest = (member: CsrMatrix, m: number) => nearestAll(table, member, member.values, null, E, k, m, alive);
  const set: ClusteringSet = { lists: fitLists, gram, nearest };
  const clusteringsFor = async () => set;
  const space: SearchSpace = {
    halfLife: ages ? tp.halfLifeCandidates : [0],
    k: [k],
    temperature: tp.temperatureCandidates,
    lambdaRel: tp.lambdaCandidates,
    beta: tp.betaCandidates,
  };
  let best = startSetting(space, !!ages);
  let rows: Array<typeof best & { ndcg: number }> = [];
  if (tp.select) {
    const scorer = new SettingScorer(carved.v, p, clusteringsFor, progress);
    const walked = await searchSettings(space, best, tp.searchRounds, (s) => scorer.ndcg(s));
    const { ndcg: _, ...b } = walked.best;
    best = b;
    rows = walked.rows;
  } else {
    best = { halfLife: ages ? tp.halfLife : 0, k, temperature: tp.temperature, lambdaRel: tp.lambdaRel, beta: tp.beta };
  }
  Object.assign(tp, { halfLife: best.halfLife, temperature: best.temperature, lambdaRel: best.lambdaRel, beta: best.beta });
  lap('select');
  progress('check');
  const checker = new SettingScorer(carved.c, p, clusteringsFor);
  const mine = pickMetrics(scoreRecommendations(await checker.recommendations(best), carved.c.split));
  const pop = pickMetrics(scoreRecommendations(popularFor(carved.c.x, popularity, 10), carved.c.split));
  const holdout = verdict(mine, pop, {
    mode: ages ? 'temporal' : 'random',
    users: carved.c.x.nRows,
    testRows: carved.c.split.test.length,
    minRatio: opts.minRatio ?? 1,
  });
  holdout.reason += ` (users sampled apart from the ${carved.v.x.nRows} that chose the settings)`;
  lap('check');

  // 7. pass 2: every user's mix; the final lists' local matrices; the model
  progress('mix every user');
  const bs = fitLocals(gram, finalLists, tp.lambdaRel);
  const recency = recencyWeightsOf(x, ages, tp.halfLife);
  const nears = nearestAll(table, x, recency.weight, recency.norm, E, k, tp.neighbours, alive);
  const mix = mixFromNearest(nears, x.nRows, tp.temperature);
  const primary = assigned.labels[0];
  const model = assembleClEase(x, finalLists, bs, primary, mix, { beta: tp.beta, halfLife: tp.halfLife }, userHistories(x, ages, tp.halfLife, tp.recentMovies));
  lap('mix');
  const selection = { ...best, rows, mode: holdout.mode, users: carved.v.x.nRows };
  return {
    model,
    params: p,
    training: {
      inertia: inertias[0],
      iterations: iterations[0],
      inertias,
      seconds,
      fix: fixes[0].report,
      engine: 'taste',
      notes,
      taste: tasteSummary(p, model, fixes.map((f) => f.report.dissolved.length), gram.users, selection),
      holdout,
    },
    holdout,
  };
}

/** The rows of x given (ascending), as a matrix with the same columns, and their entries' ages. */
function subRows(x: CsrMatrix, rows: ArrayLike<number>, ages?: Int32Array): { x: CsrMatrix; ages?: Int32Array } {
  let nnz = 0;
  for (let i = 0; i < rows.length; i++) nnz += x.indptr[rows[i] + 1] - x.indptr[rows[i]];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const subAges = ages ? new Int32Array(nnz) : undefined;
  const rowIds = new Float64Array(rows.length);
  let w = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    rowIds[i] = x.rowIds[r];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++, w++) {
      indices[w] = x.indices[p];
      if (subAges) subAges[w] = ages![p];
    }
    indptr[i + 1] = w;
  }
  return { x: { nRows: rows.length, nCols: x.nCols, indptr, indices, values: null, rowIds, colIds: x.colIds }, ages: subAges };
}

interface Carved {
  v: ValidationUsers;
  c: ValidationUsers;
  /** rows outside V and C (K-means and Gram samples are drawn from them) */
  others: Int32Array;
  /** entries of x held out (V's and C's last 20 %) */
  skip: Uint8Array;
}

/** Step 1: V and C, each user's last max(1, ⌊0.2 n⌋) movies (by age; a seeded random choice without
 * timestamps) held out, as the hold-out check does it. */
function carveUsers(x: CsrMatrix, ages: Int32Array | undefined, nv: number, nc: number, seed: number): Carved {
  const eligible: number[] = [];
  for (let r = 0; r < x.nRows; r++) if (x.indptr[r + 1] - x.indptr[r] >= MIN_INTERACTIONS) eligible.push(r);
  const half = Math.floor(eligible.length / 2);
  nv = Math.min(nv, half);
  nc = Math.min(nc, half);
  if (nv < 1 || nc < 1) {
    throw new InputError('no_holdout_users', `Fewer than 2 users have ${MIN_INTERACTIONS} or more movies, so no hold-out can be carved to check the model; upload more ratings per user.`);
  }
  const rng = new Rng(seed, 13);
  for (let i = 0; i < nv + nc; i++) {
    const j = i + rng.int(eligible.length - i);
    [eligible[i], eligible[j]] = [eligible[j], eligible[i]];
  }
  const V = Int32Array.from(eligible.slice(0, nv)).sort();
  const C = Int32Array.from(eligible.slice(nv, nv + nc)).sort();
  const skip = new Uint8Array(x.indptr[x.nRows]);
  const users = (rows: Int32Array, s: number): ValidationUsers => {
    const sub = subRows(x, rows, ages);
    // ages as times (older = smaller): the split's temporal rule is then "the newest 20 %"
    const times = sub.ages ? Float64Array.from(sub.ages, (a) => -a) : undefined;
    const h = holdoutSplit(sub.x, { times, seed: s });
    markHeld(x, rows, h.split, skip);
    const trainAges = sub.ages ? trainPartAges(sub.x, sub.ages, h.split) : undefined;
    return { x: h.split.trainMatrix, ages: trainAges, split: h.split };
  };
  const inVC = new Uint8Array(x.nRows);
  for (const r of V) inVC[r] = 1;
  for (const r of C) inVC[r] = 1;
  const others: number[] = [];
  for (let r = 0; r < x.nRows; r++) if (!inVC[r]) others.push(r);
  return { v: users(V, seed), c: users(C, seed + 1), others: Int32Array.from(others), skip };
}

/** Mark the entries of x a split on rows `rows` of it held out. */
function markHeld(x: CsrMatrix, rows: Int32Array, split: EvalSplit, skip: Uint8Array): void {
  const { indptr, movieIds } = split.test;
  for (let i = 0; i < rows.length; i++) {
    const held = new Set<number>();
    for (let q = indptr[i]; q < indptr[i + 1]; q++) held.add(movieIds[q]);
    const r = rows[i];
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (held.has(x.colIds[x.indices[p]])) skip[p] = 1;
  }
}

/** Ages of the entries a split kept in TRAIN (the held-out ones were the newest, so each age drops by
 * their number; in random mode the order among the kept is still by age). */
function trainPartAges(sub: CsrMatrix, ages: Int32Array, split: EvalSplit): Int32Array {
  const tm = split.trainMatrix;
  const out = new Int32Array(tm.indptr[tm.nRows]);
  for (let r = 0; r < sub.nRows; r++) {
    // rank the kept entries by their original age (ascending = newest first)
    const kept: Array<[number, number]> = [];
    let q = tm.indptr[r];
    for (let p = sub.indptr[r]; p < sub.indptr[r + 1] && q < tm.indptr[r + 1]; p++) {
      if (sub.indices[p] === tm.indices[q]) kept.push([ages[p], q++]);
    }
    kept.sort((a, b) => a[0] - b[0]);
    kept.forEach(([, at], rank) => (out[at] = rank));
  }
  return out;
}

function longestRow(x: CsrMatrix): number {
  let m = 0;
  for (let r = 0; r < x.nRows; r++) m = Math.max(m, x.indptr[r + 1] - x.indptr[r]);
  return m;
}

/**
 * Pass 1: each row's (without its held-out entries, as a unit row) nearest centroid in each clustering,
 * and per clustering the members' movie counts, cluster-major (counts[e][label·nCols + col]).
 */
function assignAll(
  x: CsrMatrix,
  skip: Uint8Array,
  table: CentreTable,
  centroids: Float64Array[],
  E: number,
  k: number,
): { labels: Int32Array[]; counts: Int32Array[] } {
  const d = x.nCols;
  const cnorm = new Float64Array(E * k);
  for (let e = 0; e < E; e++) {
    const c = centroids[e];
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let col = 0; col < d; col++) {
        const v = c[j * d + col];
        if (v !== 0) table.set(e * k + j, col, v);
        s += v * v;
      }
      cnorm[e * k + j] = s;
    }
  }
  const labels = Array.from({ length: E }, () => new Int32Array(x.nRows));
  const counts = Array.from({ length: E }, () => new Int32Array(k * d));
  table.forEachRow(x, { skip }, (r, dots) => {
    let n = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) n++;
    const v = n > 0 ? 1 / Math.sqrt(n) : 0;
    const xn = n * v * v;
    for (let e = 0; e < E; e++) {
      let best = 0;
      let bestD2 = Infinity;
      for (let j = 0; j < k; j++) {
        let d2 = xn - 2 * (v * dots[e * k + j]) + cnorm[e * k + j];
        if (d2 < 0) d2 = 0;
        if (d2 < bestD2) {
          bestD2 = d2;
          best = j;
        }
      }
      labels[e][r] = best;
      const row = counts[e];
      const base = best * d;
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) row[base + x.indices[p]]++;
    }
  });
  return { labels, counts };
}

/**
 * fixClusters on dense counts: clusters with fewer than minClusterSize members (but some) are dissolved in
 * ascending id, their members (ascending) moved to the remaining cluster whose original list holds the
 * largest share of their movies (ties: the lowest id); the moved users' movies are then counted in their new
 * cluster. Labels and counts are updated in place. Returns each cluster's final size (0 = no cluster).
 */
function fixLarge(
  x: CsrMatrix,
  skip: Uint8Array,
  labels: Int32Array,
  counts: Int32Array,
  k: number,
  idOffset: number,
  minClusterSize: number,
): { sizes: number[]; report: FixReport } {
  const d = x.nCols;
  const sizes = new Array<number>(k).fill(0);
  for (let r = 0; r < x.nRows; r++) sizes[labels[r]]++;
  const sizesBefore: Record<number, number> = {};
  for (let j = 0; j < k; j++) if (sizes[j] > 0) sizesBefore[idOffset + j] = sizes[j];
  const small: number[] = [];
  const keep: number[] = [];
  for (let j = 0; j < k; j++) {
    if (sizes[j] === 0) continue;
    (sizes[j] < minClusterSize ? small : keep).push(j);
  }
  const report: FixReport = { minClusterSize, sizesBefore, sizesAfter: { ...sizesBefore }, dissolved: [], moves: [] };
  if (small.length === 0 || keep.length === 0) return { sizes, report };
  const original = keep.map((j) => ({ has: (col: number) => counts[j * d + col] > 0 }));
  const moved: Array<[number, number]> = [];
  const moves: MoveRecord[] = [];
  for (const j of small) {
    for (let r = 0; r < x.nRows; r++) {
      if (labels[r] !== j) continue;
      let n = 0;
      const hits = new Array<number>(keep.length).fill(0);
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
        if (skip[p]) continue;
        n++;
        for (let t = 0; t < keep.length; t++) if (original[t].has(x.indices[p])) hits[t]++;
      }
      let bestT = 0;
      let bestShare = -1;
      for (let t = 0; t < keep.length; t++) {
        const share = n ? hits[t] / n : 0;
        if (share > bestShare) {
          bestShare = share;
          bestT = t;
        }
      }
      moved.push([r, keep[bestT]]);
      moves.push({ userId: x.rowIds[r], from: idOffset + j, to: idOffset + keep[bestT], share: bestShare });
    }
    report.dissolved.push(idOffset + j);
  }
  for (const [r, to] of moved) {
    labels[r] = to;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) counts[to * d + x.indices[p]]++;
    sizes[to]++;
  }
  for (const j of small) sizes[j] = 0;
  report.moves = moves;
  report.sizesAfter = {};
  for (let j = 0; j < k; j++) if (sizes[j] > 0) report.sizesAfter[idOffset + j] = sizes[j];
  return { sizes, report };
}

/** The held-out entries counted in their users' clusters. */
function addHeld(x: CsrMatrix, skip: Uint8Array, labels: Int32Array, counts: Int32Array): void {
  const d = x.nCols;
  for (let r = 0; r < x.nRows; r++) {
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (skip[p]) counts[labels[r] * d + x.indices[p]]++;
  }
}

/** Each live cluster's top L movies by count (desc, then column = movieId asc), from a dense count table. */
function topLists(counts: Int32Array, sizes: number[], d: number, k: number, idOffset: number, L: number): ListCols[] {
  const out: ListCols[] = [];
  for (let j = 0; j < k; j++) {
    if (sizes[j] === 0) continue;
    const row = counts.subarray(j * d, (j + 1) * d);
    let max = 0;
    for (let c = 0; c < d; c++) if (row[c] > max) max = row[c];
    // the L-th largest count: a histogram walked from the top
    const hist = new Int32Array(max + 1);
    for (let c = 0; c < d; c++) if (row[c] > 0) hist[row[c]]++;
    let threshold = 1;
    let above = 0;
    for (let v = max; v >= 1; v--) {
      if (above + hist[v] >= L) {
        threshold = v;
        break;
      }
      above += hist[v];
    }
    const cols: number[] = [];
    for (let c = 0; c < d; c++) if (row[c] > threshold) cols.push(c);
    for (let c = 0; c < d && cols.length < L; c++) if (row[c] === threshold) cols.push(c);
    cols.sort((a, b) => row[b] - row[a] || a - b);
    out.push({ id: idOffset + j, size: sizes[j], cols: Int32Array.from(cols), counts: Float64Array.from(cols, (c) => row[c]) });
  }
  return out;
}

/** Users per movie over a partition's count table (every user is in exactly one cluster of it). */
function columnTotals(counts: Int32Array, k: number, d: number): Int32Array {
  const out = new Int32Array(d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) out[c] += counts[j * d + c];
  return out;
}

/** Each live cluster's direction: the sum of its final members' unit rows (held-out entries left out),
 * scaled to unit length, written into the table (which the centroids no longer need). */
function directions(x: CsrMatrix, skip: Uint8Array, labels: Int32Array[], table: CentreTable, E: number, k: number, sizes: number[][]): void {
  table.table.fill(0);
  const d = x.nCols;
  const t = table.table;
  for (let r = 0; r < x.nRows; r++) {
    let n = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) n++;
    if (n === 0) continue;
    const v = 1 / Math.sqrt(n);
    for (let e = 0; e < E; e++) {
      const c = e * k + labels[e][r];
      const base = (c >> 4) * d * 16 + (c & 15);
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) if (!skip[p]) t[base + x.indices[p] * 16] += v;
    }
  }
  for (let e = 0; e < E; e++) {
    for (let j = 0; j < k; j++) {
      const c = e * k + j;
      const base = (c >> 4) * d * 16 + (c & 15);
      if (sizes[e][j] === 0) {
        for (let col = 0; col < d; col++) t[base + col * 16] = 0;
        continue;
      }
      let ss = 0;
      for (let col = 0; col < d; col++) ss += t[base + col * 16] ** 2;
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let col = 0; col < d; col++) t[base + col * 16] *= inv;
    }
  }
}

/** Recency weights of every entry, 0.5^(age/h) (1 without recency), and each row's norm of them. */
function recencyWeightsOf(x: CsrMatrix, ages: Int32Array | undefined, halfLife: number): { weight: (p: number) => number; norm: Float64Array } {
  const pow: number[] = [];
  const weight = ages && halfLife > 0 ? (p: number) => pow[ages[p]] ?? (pow[ages[p]] = Math.pow(0.5, ages[p] / halfLife)) : () => 1;
  const norm = new Float64Array(x.nRows);
  for (let r = 0; r < x.nRows; r++) {
    let ss = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const w = weight(p);
      ss += w * w;
    }
    norm[r] = Math.sqrt(ss);
  }
  return { weight, norm };
}

/**
 * Each row's `m` nearest live clusters per clustering by cosine (desc, then id asc). `weights` are the
 * rows' values (or a function of the entry), `norm` their rows' lengths (null: the values are unit rows).
 */
function nearestAll(
  table: CentreTable,
  x: CsrMatrix,
  weights: Float64Array | ((p: number) => number) | null,
  norm: Float64Array | null,
  E: number,
  k: number,
  neighbours: number,
  alive: boolean[][],
): Nearest[] {
  const out: Nearest[] = [];
  for (let e = 0; e < E; e++) {
    const live = alive[e].filter(Boolean).length;
    const m = Math.min(neighbours, live);
    out.push({ m, near: new Int32Array(x.nRows * m), cos: new Float64Array(x.nRows * m) });
  }
  const top = new Int32Array(neighbours);
  const val = new Float64Array(neighbours);
  table.forEachRow(x, { weights: typeof weights === 'function' ? null : weights, weightOf: typeof weights === 'function' ? weights : undefined }, (r, dots) => {
    const inv = norm ? (norm[r] > 0 ? 1 / norm[r] : 0) : 1;
    for (let e = 0; e < E; e++) {
      const nb = out[e];
      const m = nb.m;
      let len = 0;
      for (let j = 0; j < k; j++) {
        if (!alive[e][j]) continue;
        const cos = dots[e * k + j] * inv;
        if (len === m && !(cos > val[m - 1])) continue;
        let i = len < m ? len++ : m - 1;
        while (i > 0 && val[i - 1] < cos) {
          top[i] = top[i - 1];
          val[i] = val[i - 1];
          i--;
        }
        top[i] = j;
        val[i] = cos;
      }
      for (let t = 0; t < m; t++) {
        nb.near[r * m + t] = e * k + top[t];
        nb.cos[r * m + t] = val[t];
      }
    }
  });
  return out;
}

/** Most-popular lists for the rows of `users` (their own movies left out), popularity by column. */
function popularFor(users: CsrMatrix, popularity: Int32Array, n: number): Map<number, number[]> {
  const order = Array.from({ length: popularity.length }, (_, c) => c)
    .filter((c) => popularity[c] > 0)
    .sort((a, b) => popularity[b] - popularity[a] || a - b);
  const out = new Map<number, number[]>();
  for (let r = 0; r < users.nRows; r++) {
    const seen = new Set(users.indices.subarray(users.indptr[r], users.indptr[r + 1]));
    const ids: number[] = [];
    for (const c of order) {
      if (ids.length === n) break;
      if (!seen.has(c)) ids.push(users.colIds[c]);
    }
    out.set(users.rowIds[r], ids);
  }
  return out;
}

