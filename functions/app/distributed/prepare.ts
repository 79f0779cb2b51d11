// Steps Prepare and Select (central): the shards' sizes complete the data report; the parameters are
// resolved as the single-function training resolves them (too few users, fewer restarts on large data);
// the default model's settings are selected on data that fits this one function, as the single path selects
// them; the clusterings to run are listed.
import { meanVarianceOf } from '../../core/distributed/shards';
import { rankPairs } from '../../core/ranked';
import { resolveParams } from '../../core/recommender';
import { sampleRowIndices } from '../../core/recommender';
import { selectTaste } from '../../core/recommender/select';
import { assertEnoughUsers, LARGE_DATA_NNZ, largeDataParams, stripUndefined } from '../../core/train';
import type { RecommenderOverrides } from '../../core/recommender';
import { type DistributedDeps, setStatus } from './deps';
import { gatherAll, gatherRows, movieIndex } from './gather';
import { putJson, runKeys } from './run-files';
import { shardSummaries } from './shards';
import { type CentralEvent, type Job, type Loop, loadRun, type RunState, saveRun, startLoop } from './state';
import { saveJobState, writeCentres } from './cluster';
import { kmeans, releaseEngineMemory } from '../../core/kmeans';
import { transposedCentres } from '../../core/distributed/kmeans';
import { gramSample } from '../../core/recommender/cl-ease';
import { unitRows } from '../../core/recommender/features';

export async function prepare(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const run = await loadRun(deps.runs, event.version);
  await setStatus(deps, run.version, { phase: 'preparing' });
  const P = run.plan.bounds.length + 1;
  const d = run.index!.d;
  const summaries = await shardSummaries(deps.runs, run.version, P);
  const rows = summaries.map((s) => s.meta.nRows);
  const rowStarts: number[] = [];
  let n = 0;
  let nnz = 0;
  let duplicates = 0;
  for (const s of summaries) {
    rowStarts.push(n);
    n += s.meta.nRows;
    nnz += s.meta.nnz;
    duplicates += s.meta.duplicates;
  }
  const timesFinite = run.plan.withTimes && summaries.every((s) => s.meta.timesFinite);
  run.shards = { rows, rowStarts, n, nnz, timesFinite, duplicates };
  const report = run.report!;
  Object.assign(report, { users: n, movies: d, interactions: nnz, duplicatesCollapsed: duplicates });
  await putJson(deps.runs, runKeys.report(run.version), report);

  const given = stripUndefined(run.params) as RecommenderOverrides;
  const resolved = resolveParams(given);
  assertEnoughUsers(n, resolved, { sourceName: run.sourceName }, report);
  const { params: adjusted, notes } = largeDataParams(given, resolved, nnz, LARGE_DATA_NNZ);
  const p = resolveParams(adjusted);

  // the global most-popular list: users per movie (popularList)
  const colIds = await movieIndex(deps.runs, run.version);
  const counts = new Int32Array(d);
  for (const s of summaries) for (let i = 0; i < s.stats.cols.length; i++) counts[s.stats.cols[i]] += s.stats.counts[i];
  const ids: number[] = [];
  const cs: number[] = [];
  for (let j = 0; j < d; j++) if (counts[j] > 0) (ids.push(colIds[j]), cs.push(counts[j]));
  await putJson(deps.runs, runKeys.popular(run.version), rankPairs(ids, cs));

  const features = p.algorithm === 'seed' ? 'binary' : 'unit';
  const tolAbs = { binary: 0, unit: 0 };
  tolAbs[features] = p.tol * meanVarianceOf(summaries.map((s) => s.stats), n, d, features);
  const jobs: Job[] =
    p.algorithm === 'seed'
      ? [{ features: 'binary', k: p.k, nInit: p.nInit, maxIter: p.maxIter, tol: p.tol, randomState: p.randomState, idOffset: 0 }]
      : [];
  run.model = { params: p, notes, jobs, tolAbs, times: timesFinite, selection: null };
  await saveRun(deps.runs, run);
  await setStatus(deps, run.version, { phase: p.algorithm === 'seed' ? 'seeding' : 'selecting', jobs: jobs.length || p.taste.ensemble, k: p.k });
  return { ...startLoop(), next: p.algorithm === 'seed' ? 'seed' : 'select' };
}

/** The default model's settings, selected as the single path selects them (select.ts: k, half-life,
 * temperature, λ_rel and β by the coordinate walk on a hold-out carved from the data): on every user up to
 * SELECTION_SAMPLE_NNZ interactions (or taste.largeDataNnz when lower), else on a seeded sample of users of about
 * that many interactions, which fits this one function. Then the clusterings to run. */
export async function select(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const run = await loadRun(deps.runs, event.version);
  const model = run.model!;
  const p = model.params;
  const n = run.shards!.n;
  const nnz = run.shards!.nnz;
  const t0 = performance.now();
  if (p.taste.select) {
    const budget = Math.min(p.taste.largeDataNnz, SELECTION_SAMPLE_NNZ);
    const sampled = nnz > budget;
    const users = sampled ? selectionSampleSize(n, nnz, budget) : n;
    const data = sampled
      ? await gatherRows(deps.runs, run, Array.from(sampleRowIndices(n, users, p.randomState)), { times: model.times })
      : await gatherAll(deps.runs, run, { times: model.times });
    const selection = await selectTaste(data.x, p, { times: model.times ? data.times : undefined, threads: run.options.threads });
    const { k, halfLife, temperature, lambdaRel, beta } = selection;
    Object.assign(p.taste, { k, halfLife, temperature, lambdaRel, beta });
    model.selection = selection;
    if (sampled) {
      model.notes.push(`settings selected on a seeded sample of ${users} of ${n} users (${data.x.indptr[data.x.nRows]} of ${nnz} interactions), which fits one function.`);
    }
    run.seconds.select = (performance.now() - t0) / 1000;
  }
  if (!model.times && p.taste.halfLife > 0) {
    model.notes.push('no timestamps: every movie of a user weighs the same (no recency weighting).');
    p.taste.halfLife = 0;
  }
  const k = Math.min(p.taste.k, n);
  if (k !== p.taste.k) model.notes.push(`k lowered from ${p.taste.k} to ${k}: only ${n} users.`);
  p.taste.k = k;
  p.k = k;
  // large data (as large.ts): fewer clusterings, each fitted on a user sample, then one pass over everyone
  const large = nnz > p.taste.largeDataNnz;
  if (large) p.taste.ensemble = p.taste.largeEnsemble;
  model.jobs = Array.from({ length: p.taste.ensemble }, (_, e) => ({
    features: 'unit' as const,
    k,
    nInit: large ? 1 : p.nInit,
    maxIter: large ? Math.min(p.maxIter, p.taste.kmeansMaxIter) : p.maxIter,
    tol: p.tol,
    randomState: (p.randomState + e) % 2 ** 32,
    idOffset: e * k,
    ...(large ? { sampled: true } : {}),
  }));
  if (large) {
    await setStatus(deps, run.version, { phase: 'clustering', jobs: model.jobs.length, k });
    await fitSampledCentres(deps, run);
    await saveRun(deps.runs, run);
    return { ...startLoop(), next: 'assign', final: true };
  }
  await saveRun(deps.runs, run);
  await setStatus(deps, run.version, { phase: 'seeding', jobs: model.jobs.length, k });
  return startLoop();
}

/**
 * The large-data clusterings' centres, as the single path's large.ts fits them: K-means (one restart, at most
 * taste.kmeansMaxIter iterations) on the unit rows of a seeded sample of taste.kmeansUsers users, which fits
 * this one function. Each becomes its clustering's iteration-0 centres; the state machine's one Assign pass
 * over every partition (final) then labels every user, and FinishRestart records it as the clustering.
 */
async function fitSampledCentres(deps: DistributedDeps, run: RunState): Promise<void> {
  const model = run.model!;
  const p = model.params;
  const n = run.shards!.n;
  const d = run.index!.d;
  const t0 = performance.now();
  const rows = gramSample(n, p.taste.kmeansUsers, p.randomState + 17) ?? Int32Array.from({ length: n }, (_, i) => i);
  const sample = unitRows((await gatherRows(deps.runs, run, Array.from(rows))).x);
  for (let e = 0; e < model.jobs.length; e++) {
    const job = model.jobs[e];
    const r = await kmeans(sample, { k: job.k, nInit: 1, maxIter: job.maxIter, tol: job.tol, randomState: job.randomState, threads: run.options.threads });
    const { ct, cnorm } = transposedCentres(r.centroids, job.k, d);
    await writeCentres(deps.runs, run.version, { ...startLoop(), job: e }, 0, ct, cnorm, d, job.k);
    await saveJobState(deps.runs, run.version, e, r.iterations);
  }
  releaseEngineMemory();
  model.notes.push(`large data (${run.shards!.nnz} interactions > ${p.taste.largeDataNnz}): ${model.jobs.length} clusterings at k=${p.taste.k}, each fitted on a seeded sample of ${rows.length} users (one restart, at most ${p.taste.kmeansMaxIter} iterations), then every user assigned to the nearest centre.`);
  run.seconds.kmeans = (performance.now() - t0) / 1000;
}

/** Interactions the selection runs on at most, past which it takes a seeded user sample. Measured on this
 * machine (`movierec train` of the 2M generated set, 2026-12-06, load 3–4): the selection 73 s, the whole
 * training's peak RSS 1.0 GB; a central function (3,008 MB, 15 min) holds it with room to spare. */
export const SELECTION_SAMPLE_NNZ = 2_000_000;

/** Users of a seeded selection sample holding about `budget` of the upload's `nnz` interactions. */
export function selectionSampleSize(n: number, nnz: number, budget: number): number {
  return Math.max(1, Math.min(n, Math.floor((n * budget) / Math.max(1, nnz))));
}
