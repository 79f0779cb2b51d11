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
import { scoreRecommendations } from '../evaluate/score';
import { EvalSplit } from '../evaluate/split';
import { MIN_INTERACTIONS } from '../evaluate/protocol';
import { CsrMatrix, InputError } from '../types';
import { assembleClEase, fitLocals, gramSample, ListCols, unionOf, userHistories } from './cl-ease';
import { blockEntries, CentreTable } from './passes';
import { clusterLists } from './large-lists';
import { entryAges, unitRows } from './features';
import { holdoutSplit } from './holdout';
import { unionGram } from './local-ease';
import { RecommenderParams } from './params';
import { searchSettings, SettingScorer, startSetting, ClusteringSet, SearchSpace, ValidationUsers } from './select';
import { mixFromNearest, Nearest } from './taste';
import type { RecommenderResult, TrainRecommenderOptions } from './train';
import { clEaseResult } from './train';
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
  const E = tp.largeEnsemble;
  const k = Math.max(1, Math.min(tp.k, Math.floor(x.nRows / 6)));
  notes.push(`large-data path (${x.indptr[x.nRows]} interactions > ${tp.largeDataNnz}): ${E} clusterings, k fixed at ${k}, K-means fitted on ${Math.min(tp.kmeansUsers, x.nRows)} sampled users, settings validated on ${tp.validationUsers} users (${tp.largeSearchRounds} round${tp.largeSearchRounds === 1 ? '' : 's'} of the coordinate search, λ_rel among ${tp.largeLambdaCandidates.join(', ')}) and checked on ${tp.checkUsers} others.`);
  p.k = tp.k = k;
  tp.ensemble = E;

  progress('ages');
  const ages = opts.ages ?? (opts.times ? entryAges(x, opts.times) : undefined);
  if (!ages) {
    if (tp.halfLife > 0) notes.push('no timestamps: every movie of a user weighs the same (no recency weighting).');
    tp.halfLife = 0;
  }
  const carved = carveUsers(x, ages, tp.validationUsers, tp.checkUsers, p.randomState);
  lap('carve');

  // 2. K-means on a sample of the other users (of everyone, held-out movies left out, when the others are
  // fewer than the sample would take: small data sent down this path)
  const enough = (n: number) => carved.others.length >= Math.min(n, x.nRows);
  const kmPool = enough(tp.kmeansUsers) ? carved.others : undefined;
  const kmRows = gramSample(x.nRows, tp.kmeansUsers, p.randomState + 17, kmPool) ?? allRows(x.nRows);
  const sample = unitRows(subRows(x, kmRows, undefined, carved.skip).x);
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

  // 3. pass 1: labels; then, cluster by cluster, fixClusters' moves, the lists and the directions
  progress('assign every user');
  const table = new CentreTable(x.nCols, E, k, Math.max(blockEntries(x), blockEntries(carved.v.x), blockEntries(carved.c.x)), { threads: opts.threads });
  const flat = await table.assign(x, carved.skip, loadCentroids(table, centroids, k, x.nCols));
  const labels = Array.from({ length: E }, (_, e) => flat.subarray(e * x.nRows, (e + 1) * x.nRows));
  centroids.length = 0;
  lap('assign');
  progress('lists and directions');
  table.table.fill(0); // now the clusters' directions
  const popularity = new Int32Array(x.nCols);
  const clustered = labels.map((l, e) => clusterLists(x, carved.skip, l, k, e * k, p.minClusterSize, tp.listLength, table, e === 0 ? popularity : null));
  const fitLists = clustered.flatMap((c) => c.fit);
  const finalLists = clustered.flatMap((c) => c.final);
  const fixes = clustered.map((c) => c.fix);
  lap('lists');

  // 4. co-occurrences on a sample of the other users, newest movies first
  progress('co-occurrences');
  const gramPool = enough(tp.gramUsers) ? carved.others : undefined;
  const gramRows = gramSample(x.nRows, tp.gramUsers, p.randomState + 1, gramPool) ?? allRows(x.nRows);
  const gram = unionGram(x, unionOf([...fitLists, ...finalLists]), gramRows, { cap: tp.gramRowCap, ages, skip: carved.skip });
  lap('gram');

  // 5. selection on V (k fixed), 6. the check on C
  const alive = Uint8Array.from(clustered.flatMap((c) => c.sizes.map((n) => (n > 0 ? 1 : 0))));
  // validation users' nearest directions, with the recency of the setting being scored
  const nearest = (users: { x: CsrMatrix; ages?: Int32Array }, halfLife: number, m: number) => table.nearest(users.x, m, alive, recencyPow(users.ages, halfLife));
  const set: ClusteringSet = { lists: fitLists, gram, nearest };
  const clusteringsFor = async () => set;
  const space: SearchSpace = {
    halfLife: ages ? tp.halfLifeCandidates : [0],
    k: [k],
    temperature: tp.temperatureCandidates,
    lambdaRel: tp.largeLambdaCandidates,
    beta: tp.betaCandidates,
  };
  let best = startSetting(space, !!ages);
  let rows: Array<typeof best & { ndcg: number }> = [];
  if (tp.select) {
    const scorer = new SettingScorer(carved.v, p, clusteringsFor, progress);
    const walked = await searchSettings(space, best, tp.largeSearchRounds, (s) => scorer.ndcg(s));
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
  const nears = await table.nearest(x, tp.neighbours, alive, recencyPow(ages, tp.halfLife));
  progress('model');
  const mix = mixFromNearest(nears, x.nRows, tp.temperature);
  const primary = Int32Array.from(labels[0], (j) => j);
  const model = assembleClEase(x, finalLists, bs, primary, mix, { beta: tp.beta, halfLife: tp.halfLife }, userHistories(x, ages, tp.halfLife, tp.recentMovies));
  lap('mix');
  const selection = { ...best, rows, mode: holdout.mode, users: carved.v.x.nRows };
  return clEaseResult(model, p, { inertias, iterations, seconds, fixes, notes, gramUsers: gram.users, selection, holdout });
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** The rows of x given (ascending), as a matrix with the same columns, and their entries' ages; entries
 * marked in `skip` left out. */
function subRows(x: CsrMatrix, rows: ArrayLike<number>, ages?: Int32Array, skip?: Uint8Array): { x: CsrMatrix; ages?: Int32Array } {
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
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      if (skip && skip[p]) continue;
      indices[w] = x.indices[p];
      if (subAges) subAges[w] = ages![p];
      w++;
    }
    indptr[i + 1] = w;
  }
  const used = w === nnz ? indices : indices.slice(0, w);
  return { x: { nRows: rows.length, nCols: x.nCols, indptr, indices: used, values: null, rowIds, colIds: x.colIds }, ages: subAges };
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

/** pow[age] = 0.5^(age / h) for every age in `ages` (null without recency: every entry weighs 1). */
function recencyPow(ages: Int32Array | undefined, halfLife: number): { ages: Int32Array; pow: Float64Array } | null {
  if (!ages || !(halfLife > 0)) return null;
  let max = 0;
  for (let p = 0; p < ages.length; p++) if (ages[p] > max) max = ages[p];
  return { ages, pow: Float64Array.from({ length: max + 1 }, (_, a) => Math.pow(0.5, a / halfLife)) };
}

/** ‖c‖² of every centroid (k × nCols row-major per clustering), written into the table. */
function loadCentroids(table: CentreTable, centroids: Float64Array[], k: number, d: number): Float64Array {
  const cnorm = new Float64Array(centroids.length * k);
  centroids.forEach((c, e) => {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let col = 0; col < d; col++) {
        const v = c[j * d + col];
        if (v !== 0) table.set(e * k + j, col, v);
        s += v * v;
      }
      cnorm[e * k + j] = s;
    }
  });
  return cnorm;
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

