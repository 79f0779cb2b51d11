// trainRecommender: matrix → servable model (seed or taste), with the taste model's k, half-life and
// temperature chosen on a hold-out carved from the training data itself (select.ts).
import { kmeans, releaseEngineMemory } from '../kmeans';
import { buildSeedModel, FixReport } from '../cluster-lists';
import { ClusterModel } from '../model';
import { TrainingSummary } from '../snapshot';
import { CsrMatrix } from '../types';
import { tasteClusterings, tasteMix } from './clusterings';
import { RecommenderOverrides, RecommenderParams, resolveParams } from './params';
import { Selection, selectTaste, SelectTasteOptions } from './select';
import { assembleTasteModel } from './taste';

export type TrainRecommenderOptions = SelectTasteOptions;

export interface RecommenderResult {
  model: ClusterModel;
  /** the parameters actually used (taste: k, half-life and temperature as selected) */
  params: RecommenderParams;
  training: TrainingSummary;
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

  let selection: Selection | null = null;
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
  releaseEngineMemory(); // as above: the selection reused it, the counts and mixes need the room
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
