// trainRecommender: matrix → servable model (seed or taste), with the taste model's k and
// temperature chosen on a hold-out carved from the training data itself (never from a test set).
import { kmeans } from '../kmeans';
import { buildSeedModel, FixReport, SeedModel, TrainingSummary, UserMix } from '../model';
import { scoreRecommendations } from '../evaluate/score';
import { CsrMatrix, KMeansEngine, KMeansProgress } from '../types';
import { recencyUnitRows, unitRows } from './features';
import { holdoutSplit } from './holdout';
import { RecommenderOverrides, RecommenderParams, resolveParams } from './params';
import { topNForRows } from './batch';
import { assembleTasteModel, mixFromNearest, nearestClusters, prepareClustering, TasteClustering } from './taste';

export interface TrainRecommenderOptions {
  engine?: KMeansEngine;
  threads?: number;
  /** matrix-aligned timestamps (cellTimes) → the validation hold-out is temporal, else random */
  times?: Float64Array;
  /** validation samples at most this many users (default 2000) */
  maxValidationUsers?: number;
  onProgress?: (p: { step: string; kmeans?: KMeansProgress }) => void;
}

export interface RecommenderResult {
  model: SeedModel;
  /** the parameters actually used (taste: k and temperature as selected) */
  params: RecommenderParams;
  training: TrainingSummary;
}

export interface SelectionRow {
  k: number;
  halfLife: number;
  temperature: number;
  ndcg: number;
}

/** K-means on unit rows, E clusterings with seeds seed, seed+1, …, each counted and fixed. */
export async function tasteClusterings(
  x: CsrMatrix,
  p: RecommenderParams,
  k: number,
  opts: TrainRecommenderOptions = {},
): Promise<{ parts: TasteClustering[]; inertias: number[]; iterations: number[] }> {
  const engine = opts.engine ?? kmeans;
  const unit = unitRows(x);
  const parts: TasteClustering[] = [];
  const inertias: number[] = [];
  const iterations: number[] = [];
  for (let e = 0; e < p.taste.ensemble; e++) {
    const r = await engine(unit, {
      k,
      nInit: p.nInit,
      maxIter: p.maxIter,
      tol: p.tol,
      seed: p.seed + e,
      threads: opts.threads,
      onProgress: (kp) => opts.onProgress?.({ step: `cluster ${e + 1}/${p.taste.ensemble} (k=${k})`, kmeans: kp }),
    });
    inertias.push(r.inertia);
    iterations.push(r.iterations);
    parts.push(prepareClustering(x, unit, r.labels, { idOffset: e * k, minClusterSize: p.minClusterSize }));
  }
  return { parts, inertias, iterations };
}

/** Users' mixes for given clusterings, recency half-life and temperature. */
export function tasteMix(
  x: CsrMatrix,
  parts: readonly TasteClustering[],
  times: Float64Array | undefined,
  halfLife: number,
  temperature: number,
  neighbours: number,
): UserMix {
  const member = recencyUnitRows(x, times, halfLife);
  return mixFromNearest(
    parts.map((q) => nearestClusters(q, member, neighbours)),
    x.nRows,
    temperature,
  );
}

/** k values worth trying on `nUsers` users: ≥ 6 users per cluster on average. */
export function feasibleK(candidates: readonly number[], nUsers: number): number[] {
  const ok = candidates.filter((k) => k * 6 <= nUsers);
  return ok.length ? ok : [Math.max(1, Math.min(...candidates, Math.floor(nUsers / 6)))];
}

/** Try every (k, half-life, temperature) candidate on a hold-out carved from `x`; best NDCG@10 wins
 * (ties: the earlier candidate). Half-lives are tried only when timestamps are given. */
export async function selectTaste(
  x: CsrMatrix,
  p: RecommenderParams,
  opts: TrainRecommenderOptions = {},
): Promise<{ k: number; temperature: number; halfLife: number; rows: SelectionRow[]; mode: string; users: number }> {
  const h = holdoutSplit(x, { times: opts.times, seed: p.seed, maxTestUsers: opts.maxValidationUsers ?? 2000 });
  const rows: SelectionRow[] = [];
  const train = h.split.trainMatrix;
  const halfLives = h.trainTimes ? p.taste.halfLifeCandidates : [0];
  for (const k of feasibleK(p.taste.kCandidates, x.nRows)) {
    const { parts } = await tasteClusterings(train, p, k, opts);
    // the lists do not depend on half-life or temperature: assemble once, swap the mix
    const model = assembleTasteModel(train, parts, { ptr: [], clusters: [], weights: [] }, p.taste.listLength);
    for (const halfLife of halfLives) {
      const member = recencyUnitRows(train, h.trainTimes, halfLife);
      const nears = parts.map((q) => nearestClusters(q, member, p.taste.neighbours));
      for (const temperature of p.taste.temperatureCandidates) {
        opts.onProgress?.({ step: `validate k=${k} halfLife=${halfLife} T=${temperature}` });
        model.mix = mixFromNearest(nears, train.nRows, temperature);
        const recs = topNForRows(model, train, h.testRows, 10);
        rows.push({ k, halfLife, temperature, ndcg: scoreRecommendations(recs, h.split)['ndcg@10'] });
      }
    }
  }
  let best = rows[0];
  for (const r of rows) if (r.ndcg > best.ndcg) best = r;
  return { k: best.k, temperature: best.temperature, halfLife: best.halfLife, rows, mode: h.mode, users: h.testRows.length };
}

/**
 * Train a servable model on a binary user × movie matrix. `algorithm: 'seed'` is the seed project's
 * algorithm exactly (K-means on binary rows, counts, fixClusters); `'taste'` (the default) is the
 * taste model. Both produce the same document shape (toSnapshot); the taste model adds `mix`.
 */
export async function trainRecommender(
  x: CsrMatrix,
  overrides: RecommenderOverrides = {},
  opts: TrainRecommenderOptions = {},
): Promise<RecommenderResult> {
  const p = resolveParams(overrides);
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    seconds[name] = (now - t) / 1000;
    t = now;
  };
  const notes: string[] = [];
  const engine = opts.engine ?? kmeans;

  if (p.algorithm === 'seed') {
    const r = await engine(x, {
      k: p.k,
      nInit: p.nInit,
      maxIter: p.maxIter,
      tol: p.tol,
      seed: p.seed,
      threads: opts.threads,
      onProgress: (kp) => opts.onProgress?.({ step: 'cluster', kmeans: kp }),
    });
    lap('cluster');
    const { model, fix } = buildSeedModel(x, r.labels, p.minClusterSize);
    lap('counts');
    return {
      model,
      params: p,
      training: { inertia: r.inertia, iterations: r.iterations, inertias: r.inertias, seconds, fix, engine: r.engine, notes },
    };
  }

  let selection: Awaited<ReturnType<typeof selectTaste>> | null = null;
  const nnz = x.indptr[x.nRows];
  if (p.taste.select && nnz > p.taste.selectMaxNnz) {
    notes.push(
      `k, half-life and temperature were not selected by validation (${nnz} interactions exceed ${p.taste.selectMaxNnz}); used k=${p.taste.k}, halfLife=${p.taste.halfLife}, temperature=${p.taste.temperature}.`,
    );
  } else if (p.taste.select) {
    selection = await selectTaste(x, p, opts);
    p.taste.k = selection.k;
    p.taste.temperature = selection.temperature;
    p.taste.halfLife = selection.halfLife;
    lap('select');
  }
  const k = Math.min(p.taste.k, x.nRows);
  if (k !== p.taste.k) notes.push(`k lowered from ${p.taste.k} to ${k}: only ${x.nRows} users.`);
  p.taste.k = k;
  p.k = k;
  const { parts, inertias, iterations } = await tasteClusterings(x, p, k, opts);
  lap('cluster');
  if (!opts.times && p.taste.halfLife > 0) notes.push('no timestamps: users were placed by all their movies equally (no recency weighting).');
  const mix = tasteMix(x, parts, opts.times, p.taste.halfLife, p.taste.temperature, p.taste.neighbours);
  const model = assembleTasteModel(x, parts, mix, p.taste.listLength);
  lap('counts');
  const fix: FixReport = parts[0].fix;
  return {
    model,
    params: p,
    training: {
      inertia: inertias[0],
      iterations: iterations[0],
      inertias,
      seconds,
      fix,
      engine: 'taste',
      notes,
      taste: {
        k,
        temperature: p.taste.temperature,
        halfLife: opts.times ? p.taste.halfLife : 0,
        ensemble: p.taste.ensemble,
        neighbours: p.taste.neighbours,
        listLength: p.taste.listLength,
        clusters: model.clusters.length,
        dissolved: parts.map((q) => q.fix.dissolved.length),
        selection,
      },
    },
  };
}
