// The trained model of a distributed run, assembled in one process from its run files: what `movierec train
// --shards N` writes as a model file (the single path's snapshot format) and what tests compare with the
// single-function model. Holds every user in memory, like the single path's model (the publish steps write a
// large model partition by partition instead). Not deployed: the CLI and the tests use it.
import type { ClusterModel, UserMix } from '../functions/core/model';
import type { RankedList } from '../functions/core/ranked';
import { toSnapshot, type ModelSnapshot } from '../functions/core/snapshot';
import type { RunStore } from '../functions/ports/training-run';
import { readSummary } from '../functions/app/distributed/check';
import { movieIndex } from '../functions/app/distributed/gather';
import { modelLists, primaryLabels, servableLists } from '../functions/app/distributed/post';
import { getJson, readSections, runKeys } from '../functions/app/distributed/run-files';
import { loadShard } from '../functions/app/distributed/shards';
import { loadRun } from '../functions/app/distributed/state';

export async function assembleModel(runs: RunStore, version: string): Promise<{ model: ClusterModel; snapshot: ModelSnapshot }> {
  const run = await loadRun(runs, version);
  const lists = await modelLists(runs, version);
  const popular = await getJson<RankedList>(runs, runKeys.popular(version));
  const colIds = await movieIndex(runs, version);
  const taste = run.model!.params.algorithm === 'taste';
  const servable = await servableLists(runs, run, lists.clusters);
  const model: ClusterModel = { userIds: [], userCluster: [], userMoviePtr: [0], userMovies: [], clusters: servable.clusters, popular, ...(servable.scoring ? { scoring: servable.scoring } : {}) };
  const mix: UserMix | undefined = taste ? { ptr: [0], clusters: [], weights: [] } : undefined;
  let recent: { ptr: number[]; movies: number[] } | undefined;
  for (let q = 0; q < run.shards!.rows.length; q++) {
    const { binary: x } = await loadShard(runs, version, q, run.index!.d, 'binary');
    let cluster: ArrayLike<number>;
    if (mix) {
      const { meta, sections } = await readSections<{ recent?: boolean }>(runs, runKeys.mix(version, q), ['primary', 'ptr', 'clusters', 'weights', 'recentPtr?', 'recentMovies?']);
      cluster = sections.primary as Int32Array;
      const ptr = sections.ptr as Int32Array;
      const base = mix.clusters.length;
      for (let i = 1; i < ptr.length; i++) mix.ptr.push(base + ptr[i]);
      // element by element: a partition's arrays are far longer than a spread's argument limit
      for (const c of sections.clusters as Int32Array) mix.clusters.push(c);
      for (const w of sections.weights as Float64Array) mix.weights.push(w);
      if (meta.recent) {
        recent ??= { ptr: [0], movies: [] };
        const rp = sections.recentPtr as Int32Array;
        const at = recent.movies.length;
        for (let i = 1; i < rp.length; i++) recent.ptr.push(at + rp[i]);
        for (const m of sections.recentMovies as Float64Array) recent.movies.push(m);
      }
    } else {
      cluster = await primaryLabels(runs, run, q);
    }
    const base = model.userMovies.length;
    for (let r = 0; r < x.nRows; r++) {
      model.userIds.push(x.rowIds[r]);
      model.userCluster.push(cluster[r]);
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) model.userMovies.push(colIds[x.indices[p]]);
      model.userMoviePtr.push(base + x.indptr[r + 1]);
    }
  }
  if (mix) model.mix = mix;
  if (recent) model.recent = recent;
  const { training, createdAt } = await readSummary({ runs, upload: null as never }, version);
  const snapshot = toSnapshot(model, { params: run.model!.params, data: run.report!, training, createdAt });
  return { model, snapshot };
}
