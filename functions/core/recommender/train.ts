// trainRecommender: matrix → servable model (seed or the default CL-EASE model), with the default model's
// settings chosen on a hold-out carved from the training data itself (select.ts). Up to
// taste.largeDataNnz interactions: selection (k included), then the model on every user; beyond it, the
// large-data path (large.ts: sampled K-means at a fixed k, validation and the publish check on two user
// samples, one pass over every user for the rest).
import { kmeans, releaseEngineMemory } from '../kmeans';
import { buildSeedModel, type FixReport } from '../cluster-lists';
import { ClusterModel } from '../model';
import { TrainingSummary } from '../snapshot';
import { CsrMatrix } from '../types';
import { assembleClEase, fitLocals, gramSample, publishedLists, unionOf, userHistories } from './cl-ease';
import { tasteClusterings } from './clusterings';
import { entryAges, recencyRowsFromAges } from './features';
import { trainLarge } from './large';
import { unionGram } from './local-ease';
import { RecommenderOverrides, RecommenderParams, resolveParams } from './params';
import { Selection, selectTaste, SelectTasteOptions } from './select';
import { mixFromNearest, nearestClusters } from './taste';
import type { HoldoutReport } from './verdict';

export type TrainRecommenderOptions = SelectTasteOptions;

export interface RecommenderResult {
  model: ClusterModel;
  /** the parameters actually used (taste: the settings as selected) */
  params: RecommenderParams;
  training: TrainingSummary;
  /** the large-data path checks the model itself (on users apart from those that chose its settings) */
  holdout?: HoldoutReport;
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
      randomState: p.randomState,
      threads: opts.threads,
      onProgress: (kp) => opts.onProgress?.({ step: 'cluster', kmeans: kp }),
    });
    // the last clustering: let its memory go before the counts (and the caller's model write)
    releaseEngineMemory();
    lap('cluster');
    const { model, fix } = buildSeedModel(x, r.labels, p.minClusterSize);
    lap('counts');
    return {
      model,
      params: p,
      training: { inertia: r.inertia, iterations: r.iterations, inertias: r.inertias, seconds, fix, engine: r.engine, notes },
    };
  }

  if (x.indptr[x.nRows] > p.taste.largeDataNnz) return trainLarge(x, p, opts, seconds, notes);

  let selection: Selection | null = null;
  if (p.taste.select) {
    selection = await selectTaste(x, p, opts);
    const { k: sk, halfLife, temperature, lambdaRel, beta } = selection;
    Object.assign(p.taste, { k: sk, halfLife, temperature, lambdaRel, beta });
    lap('select');
  }
  if (!opts.times && p.taste.halfLife > 0) {
    notes.push('no timestamps: every movie of a user weighs the same (no recency weighting).');
    p.taste.halfLife = 0;
  }
  const k = Math.min(p.taste.k, x.nRows);
  if (k !== p.taste.k) notes.push(`k lowered from ${p.taste.k} to ${k}: only ${x.nRows} users.`);
  p.taste.k = k;
  p.k = k;
  const { parts, inertias, iterations } = await tasteClusterings(x, p, k, opts);
  releaseEngineMemory(); // as above: the selection reused it, the counts and mixes need the room
  lap('cluster');
  const tp = p.taste;
  const lists = publishedLists(x, parts, tp.listLength);
  const gram = unionGram(x, unionOf(lists), gramSample(x.nRows, tp.gramUsers, p.randomState));
  const bs = fitLocals(gram, lists, tp.lambdaRel);
  lap('local');
  const ages = opts.times ? entryAges(x, opts.times) : undefined;
  const member = recencyRowsFromAges(x, ages, tp.halfLife);
  const mix = mixFromNearest(parts.map((q) => nearestClusters(q, member, tp.neighbours)), x.nRows, tp.temperature);
  const model = assembleClEase(x, lists, bs, parts[0].labels, mix, { beta: tp.beta, halfLife: tp.halfLife }, userHistories(x, ages, tp.halfLife, tp.recentMovies));
  lap('mix');
  return clEaseResult(model, p, { inertias, iterations, seconds, fixes: parts.map((q) => q.fix), notes, gramUsers: gram.users, selection });
}

/** The default model's training result (both paths): the first clustering's K-means figures, every
 * clustering's inertia and dissolved clusters, the summary; with `holdout` when the path checked itself. */
export function clEaseResult(
  model: ClusterModel,
  p: RecommenderParams,
  r: { inertias: number[]; iterations: number[]; seconds: Record<string, number>; fixes: FixReport[]; notes: string[]; gramUsers: number; selection: Selection | null; holdout?: HoldoutReport },
): RecommenderResult {
  const training: TrainingSummary = {
    inertia: r.inertias[0],
    iterations: r.iterations[0],
    inertias: r.inertias,
    seconds: r.seconds,
    fix: r.fixes[0],
    engine: 'taste',
    notes: r.notes,
    taste: tasteSummary(p, model, r.fixes.map((f) => f.dissolved.length), r.gramUsers, r.selection),
    ...(r.holdout ? { holdout: r.holdout } : {}),
  };
  return { model, params: p, training, ...(r.holdout ? { holdout: r.holdout } : {}) };
}

/** What the version's training summary says about the default model. */
export function tasteSummary(
  p: RecommenderParams,
  model: Pick<ClusterModel, 'clusters'>,
  dissolved: number[],
  gramUsers: number,
  selection: Selection | null,
): Record<string, unknown> {
  const tp = p.taste;
  return {
    model: 'cl-ease',
    k: tp.k,
    temperature: tp.temperature,
    halfLife: tp.halfLife,
    lambdaRel: tp.lambdaRel,
    beta: tp.beta,
    ensemble: tp.ensemble,
    neighbours: tp.neighbours,
    listLength: tp.listLength,
    recentMovies: tp.recentMovies,
    clusters: model.clusters.length,
    dissolved,
    gramUsers,
    selection,
  };
}
