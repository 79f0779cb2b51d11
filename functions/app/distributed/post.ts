// Steps CountClusters (worker), FixClusters (central) and PlaceUsers (worker): the clusterings become the
// servable model's parts with today's rules — counts per cluster, fixClusters, and for the taste model the
// centre directions and every user's weighted mix of clusters.
import type { SectionArray } from '../../core/distributed/binary';
import { countPartition, finalLabels, fixClustering, partitionMix, type ClusterPart } from '../../core/distributed/post';
import { unitValues } from '../../core/distributed/shards';
import type { FixReport } from '../../core/cluster-lists';
import type { ClusterList } from '../../core/model';
import { recencyUnitRows } from '../../core/recommender/features';
import type { RunStore } from '../../ports/training-run';
import { bestLabels } from './cluster';
import { type DistributedDeps, setStatus } from './deps';
import { movieIndex } from './gather';
import { getContainer, getJson, putContainer, putJson, readSections, runKeys } from './run-files';
import { loadShard } from './shards';
import { type CentralEvent, type Loop, loadRun, type RunState, type WorkerEvent } from './state';

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
    const parts = await Promise.all(
      Array.from({ length: P }, async (_, q) => {
        const c = await getContainer<CountMeta>(deps.runs, runKeys.counts(run.version, j, q));
        const part: ClusterPart = { sizes: c.meta.sizes, small: c.meta.small, cols: [], counts: [], unitSums: taste ? [] : null };
        for (let k = 0; k < job.k; k++) {
          part.cols.push(c.i32(`c${k}`));
          part.counts.push(c.i32(`n${k}`));
          if (taste) part.unitSums!.push(c.f64(`u${k}`));
        }
        return part;
      }),
    );
    const unitOf = (cols: readonly number[]) => new Float64Array(cols.length).fill(1 / Math.sqrt(cols.length));
    const fixed = fixClustering(parts, job.k, colIds, { idOffset: job.idOffset, minClusterSize: p.minClusterSize, unitOf: taste ? unitOf : undefined });
    const meta: FixedMeta = { clusterIds: fixed.clusters.map((c) => c.id), moved: [...fixed.moved], idOffset: job.idOffset, report: fixed.report };
    await putContainer(deps.runs, runKeys.clustering(run.version, j), meta, fixed.centre ? { centre: fixed.centre } : {});
    for (const c of fixed.clusters) {
      lists.clusters.push(taste ? { ...c, movieIds: c.movieIds.slice(0, p.taste.listLength), counts: c.counts.slice(0, p.taste.listLength) } : c);
    }
    lists.fix.push(fixed.report);
  }
  await putJson(deps.runs, runKeys.model(run.version), lists);
  if (taste) {
    await setStatus(deps, run.version, { phase: 'placing' });
    return { ...event.loop!, next: 'members' };
  }
  return { ...event.loop!, next: 'check' };
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
  await putContainer(deps.runs, runKeys.mix(run.version, q), {}, {
    primary: Int32Array.from(primary),
    ptr: Int32Array.from(mix.ptr),
    clusters: Int32Array.from(mix.clusters),
    weights: Float64Array.from(mix.weights),
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
