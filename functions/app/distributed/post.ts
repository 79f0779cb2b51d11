// Steps CountClusters (worker), FixClusters (central) and PlaceUsers (worker): the clusterings become the
// servable model's parts with the single path's rules — counts per cluster, fixClusters, and for the default
// model (CL-EASE) the centre directions, one local EASE matrix per list (co-occurrences on the same user sample
// the single path counts), every user's weighted mix of clusters and newest movies.
import type { SectionArray } from '../../core/distributed/binary';
import { countPartition, finalLabels, fixClustering, mergeClusterParts, partitionMix, type ClusterPart } from '../../core/distributed/post';
import { unitValues } from '../../core/distributed/shards';
import type { FixReport } from '../../core/cluster-lists';
import type { ClusterList } from '../../core/model';
import { entryAges, recencyUnitRows } from '../../core/recommender/features';
import { columnIndex, fitLocals, gramSample, unionOf, userHistories, type ListCols } from '../../core/recommender/cl-ease';
import { unionGram } from '../../core/recommender/local-ease';
import type { RunStore } from '../../ports/training-run';
import { bestLabels } from './cluster';
import { type DistributedDeps, setStatus } from './deps';
import { gatherAll, gatherRows, movieIndex } from './gather';
import { getContainer, getJson, putContainer, putJson, readSections, runKeys } from './run-files';
import { loadShard } from './shards';
import { type CentralEvent, type Loop, loadRun, type RunState, saveRun, type WorkerEvent } from './state';

/** Partitions' counts read at once by FixClusters. */
const MERGE_READS = 8;

interface CountMeta {
  sizes: number[];
  small: ClusterPart['small'];
}

/** CountClusters (worker): this partition's per-cluster movie counts for every clustering. */
export async function countClusters(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const q = event.item;
  const run = await loadRun(deps.runs, event.version);
  const model = run.model!;
  const { binary } = await loadShard(deps.runs, run.version, q, run.index!.d, 'binary');
  const unit = model.params.algorithm === 'taste' ? unitValues(binary) : null;
  for (let j = 0; j < model.jobs.length; j++) {
    const labels = await bestLabels(deps.runs, run, j, q);
    const part = countPartition(binary, labels, model.jobs[j].k, { rowStart: run.shards!.rowStarts[q], minClusterSize: model.params.minClusterSize, unit });
    const sections: Record<string, SectionArray> = {};
    part.cols.forEach((cols, c) => {
      sections[`c${c}`] = cols;
      sections[`n${c}`] = part.counts[c];
      if (part.unitSums) sections[`u${c}`] = part.unitSums[c];
    });
    await putContainer<CountMeta>(deps.runs, runKeys.counts(run.version, j, q), { sizes: part.sizes, small: part.small }, sections);
  }
}

/** A clustering after fixClusters: what PlaceUsers and the publish read. */
export interface FixedMeta {
  clusterIds: number[];
  /** rows fixClusters moved: [global row, final cluster id] */
  moved: Array<[number, number]>;
  idOffset: number;
  report: FixReport;
}

/** The model's lists: every clustering's clusters after fixClusters (the taste model's cut to listLength). */
export interface ModelLists {
  clusters: ClusterList[];
  /** per clustering: its clusters dissolved by fixClusters */
  fix: FixReport[];
}

/** FixClusters: counts merged into ranked lists, small clusters dissolved, directions (taste). */
export async function fixClusters(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const run = await loadRun(deps.runs, event.version);
  const model = run.model!;
  const p = model.params;
  await setStatus(deps, run.version, { phase: 'counting' });
  const colIds = await movieIndex(deps.runs, run.version);
  const P = run.shards!.rows.length;
  const taste = p.algorithm === 'taste';
  const lists: ModelLists = { clusters: [], fix: [] };
  for (let j = 0; j < model.jobs.length; j++) {
    const job = model.jobs[j];
    const readPart = async (q: number): Promise<ClusterPart> => {
      const c = await getContainer<CountMeta>(deps.runs, runKeys.counts(run.version, j, q));
      const part: ClusterPart = { sizes: c.meta.sizes, small: c.meta.small, cols: [], counts: [], unitSums: taste ? [] : null };
      for (let k = 0; k < job.k; k++) {
        part.cols.push(c.i32(`c${k}`));
        part.counts.push(c.i32(`n${k}`));
        if (taste) part.unitSums!.push(c.f64(`u${k}`));
      }
      return part;
    };
    // the partitions folded in order, MERGE_READS read at a time: memory is the running merge, not every
    // partition's counts (measured at 100M: 12 MiB of counts per partition and clustering)
    let merged: ClusterPart | null = null;
    for (let q0 = 0; q0 < P; q0 += MERGE_READS) {
      const batch = await Promise.all(Array.from({ length: Math.min(MERGE_READS, P - q0) }, (_, i) => readPart(q0 + i)));
      for (const part of batch) merged = merged ? mergeClusterParts(merged, part) : part;
    }
    const unitOf = (cols: readonly number[]) => new Float64Array(cols.length).fill(1 / Math.sqrt(cols.length));
    const fixed = fixClustering([merged!], job.k, colIds, { idOffset: job.idOffset, minClusterSize: p.minClusterSize, unitOf: taste ? unitOf : undefined });
    const meta: FixedMeta = { clusterIds: fixed.clusters.map((c) => c.id), moved: [...fixed.moved], idOffset: job.idOffset, report: fixed.report };
    await putContainer(deps.runs, runKeys.clustering(run.version, j), meta, fixed.centre ? { centre: fixed.centre } : {});
    for (const c of fixed.clusters) {
      lists.clusters.push(taste ? { ...c, movieIds: c.movieIds.slice(0, p.taste.listLength), counts: c.counts.slice(0, p.taste.listLength) } : c);
    }
    lists.fix.push(fixed.report);
  }
  await putJson(deps.runs, runKeys.model(run.version), lists);
  if (taste) {
    await setStatus(deps, run.version, { phase: 'local-matrices' });
    const t0 = performance.now();
    model.gramUsers = await fitRunLocals(deps, run, lists.clusters);
    run.seconds.local = (performance.now() - t0) / 1000;
    await saveRun(deps.runs, run);
    await setStatus(deps, run.version, { phase: 'placing' });
    return { ...event.loop!, next: 'members' };
  }
  return { ...event.loop!, next: 'check' };
}

/** The lists' local EASE matrices (model/locals.bin, in the lists' order) from co-occurrences over the union of
 * their movies, counted on the users the single path counts them on: gramSample's seeded rows (every user up
 * to taste.gramUsers); on large data (as large.ts) each of them contributing its gramRowCap newest movies.
 * Returns the users counted. */
async function fitRunLocals(deps: DistributedDeps, run: RunState, clusters: readonly ClusterList[]): Promise<number> {
  const model = run.model!;
  const p = model.params;
  const tp = p.taste;
  const large = run.shards!.nnz > tp.largeDataNnz;
  const withTimes = large && model.times;
  const rows = gramSample(run.shards!.n, tp.gramUsers, p.randomState);
  const { x, times } = rows ? await gatherRows(deps.runs, run, Array.from(rows), { times: withTimes }) : await gatherAll(deps.runs, run, { times: withTimes });
  const colOf = columnIndex(x); // the gathered rows' columns are the movie index's
  const lists: ListCols[] = clusters.map((c) => ({
    id: c.id,
    size: c.size,
    cols: Int32Array.from(c.movieIds, (m) => colOf.get(m)!),
    counts: Float64Array.from(c.counts),
  }));
  const ages = withTimes && times ? entryAges(x, times) : undefined;
  const gram = unionGram(x, unionOf(lists), null, large ? { cap: tp.gramRowCap, ages } : {});
  const bs = fitLocals(gram, lists, tp.lambdaRel);
  const sections: Record<string, SectionArray> = {};
  bs.forEach((b, i) => (sections[`b${i}`] = b));
  await putContainer(deps.runs, runKeys.locals(run.version), { lists: bs.length, users: gram.users }, sections);
  return gram.users;
}

/** The lists' local matrices (fitRunLocals), in the lists' order. */
export async function runLocals(runs: RunStore, version: string): Promise<Float32Array[]> {
  const c = await getContainer<{ lists: number }>(runs, runKeys.locals(version));
  return Array.from({ length: c.meta.lists }, (_, i) => c.f32(`b${i}`));
}

/** The lists with their local matrices and the serving settings, as the single path's model holds them. */
export async function servableLists(runs: RunStore, run: RunState, clusters: ClusterList[]): Promise<{ clusters: ClusterList[]; scoring?: { beta: number; halfLife: number } }> {
  const p = run.model!.params;
  if (p.algorithm !== 'taste') return { clusters };
  const bs = await runLocals(runs, run.version);
  if (bs.length !== clusters.length) throw new Error(`run ${run.version}: ${bs.length} local matrices for ${clusters.length} lists`);
  return {
    clusters: clusters.map((c, i) => ({ ...c, local: { movieIds: c.movieIds.slice(), counts: c.counts.slice(), b: bs[i] } })),
    scoring: { beta: p.taste.beta, halfLife: p.taste.halfLife },
  };
}

/** PlaceUsers (worker, taste model): each user's nearest clusters of every clustering, weighted. */
export async function placeUsers(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const q = event.item;
  const run = await loadRun(deps.runs, event.version);
  const model = run.model!;
  const p = model.params;
  const { binary, times } = await loadShard(deps.runs, run.version, q, run.index!.d, 'binary', { times: model.times });
  const member = recencyUnitRows(binary, model.times && times ? times : undefined, p.taste.halfLife);
  const clusterings = await Promise.all(
    model.jobs.map(async (_, j) => {
      const c = await getContainer<FixedMeta>(deps.runs, runKeys.clustering(run.version, j));
      return { clusterIds: c.meta.clusterIds, centre: c.f64('centre') };
    }),
  );
  const mix = partitionMix(member, clusterings, p.taste.neighbours, p.taste.temperature);
  const primary = await primaryLabels(deps.runs, run, q);
  // each user's newest movies (the personal term's history), with recency
  const ages = model.times && times ? entryAges(binary, times) : undefined;
  const recent = userHistories({ ...binary, colIds: await movieIndex(deps.runs, run.version) }, ages, p.taste.halfLife, p.taste.recentMovies);
  await putContainer(deps.runs, runKeys.mix(run.version, q), { recent: !!recent }, {
    primary: Int32Array.from(primary),
    ptr: Int32Array.from(mix.ptr),
    clusters: Int32Array.from(mix.clusters),
    weights: Float64Array.from(mix.weights),
    ...(recent ? { recentPtr: Int32Array.from(recent.ptr), recentMovies: Float64Array.from(recent.movies) } : {}),
  });
}

/** A partition's users' own cluster (the first clustering's, after fixClusters): favourites count there. */
export async function primaryLabels(runs: RunStore, run: RunState, q: number): Promise<number[]> {
  const fixed = (await readSections<FixedMeta>(runs, runKeys.clustering(run.version, 0), [])).meta;
  const raw = await bestLabels(runs, run, 0, q);
  return finalLabels(raw, run.shards!.rowStarts[q], fixed.idOffset, new Map(fixed.moved));
}

export async function modelLists(runs: RunStore, version: string): Promise<ModelLists> {
  return getJson<ModelLists>(runs, runKeys.model(version));
}
