// Steps PublishStart (central), PublishUsers (one per partition) and Flip (central): today's publish
// protocol (app/publish.ts) in parts. The favourites recorded so far are folded in with core addFavourite on
// a model holding every cluster list and only the users who have favourites (addFavourite touches nothing
// else); the metadata `writing` and the lists are written once, each partition writes its users, and the
// one conditional pointer flip makes the version live — the working model serves until then.
import { typicalMovies } from '../../core/explain';
import { addFavourite, type ClusterModel, type UserMix } from '../../core/model';
import { similarIndex } from '../../core/similar';
import type { RankedList } from '../../core/ranked';
import type { PartitionedPublish } from '../../ports/training-run';
import { executionNameOf } from '../../shared/resources';
import { countFavourite } from '../favourites';
import type { PublishStore } from '../publish';
import { readSummary } from './check';
import { type DistributedDeps, setStatus } from './deps';
import { gatherRows, movieIndex, rowsOfUsers } from './gather';
import { modelLists, primaryLabels, servableLists } from './post';
import { getJson, putJson, readSections, runKeys } from './run-files';
import { loadShard } from './shards';
import { type CentralEvent, type Loop, loadRun, partitionOfRow, type RunState, type WorkerEvent } from './state';

export type DistributedPublishStore = PublishStore & PartitionedPublish;

/** A folded user's record, replacing the trained one. */
interface FoldedUser {
  userId: number;
  cluster: number;
  movies: number[];
  mix?: { clusters: number[]; weights: number[] };
  /** the default model's newest movies of the user (with recency) */
  recent?: number[];
}

interface Fold {
  foldStartedAt: number;
  favourites: number;
  /** users the training knew whose records the fold changed */
  users: FoldedUser[];
}

function storeOf(deps: DistributedDeps): DistributedPublishStore {
  if (!deps.store) throw new Error('the publish steps need the model tables (deps.store)');
  return deps.store as DistributedPublishStore;
}

/** One user's trained record (movies, own cluster, mix) from the partitions. */
async function trainedUsers(deps: DistributedDeps, run: RunState, rows: number[]): Promise<Array<Omit<FoldedUser, 'userId'> & { userId: number }>> {
  if (rows.length === 0) return [];
  const { x } = await gatherRows(deps.runs, run, rows);
  const colIds = await movieIndex(deps.runs, run.version);
  const taste = run.model!.params.algorithm === 'taste';
  const labels = new Map<number, number[]>();
  const out = [];
  for (let i = 0; i < rows.length; i++) {
    const q = partitionOfRow(run.shards!.rowStarts, rows[i]);
    const local = rows[i] - run.shards!.rowStarts[q];
    const movies = Array.from(x.indices.subarray(x.indptr[i], x.indptr[i + 1]), (j) => colIds[j]);
    let cluster: number;
    let mix: FoldedUser['mix'];
    let recent: number[] | undefined;
    if (taste) {
      const key = runKeys.mix(run.version, q);
      const { sections } = await readSections(deps.runs, key, ['primary', 'ptr'], { primary: [local, local + 1], ptr: [local, local + 2] });
      cluster = (sections.primary as Int32Array)[0];
      const [a, b] = sections.ptr as Int32Array;
      const m = await readSections<{ recent?: boolean }>(deps.runs, key, ['clusters', 'weights'], { clusters: [a, b], weights: [a, b] });
      mix = { clusters: Array.from(m.sections.clusters as Int32Array), weights: Array.from(m.sections.weights as Float64Array) };
      if (m.meta.recent) {
        const [ra, rb] = (await readSections(deps.runs, key, ['recentPtr'], { recentPtr: [local, local + 2] })).sections.recentPtr as Int32Array;
        recent = Array.from((await readSections(deps.runs, key, ['recentMovies'], { recentMovies: [ra, rb] })).sections.recentMovies as Float64Array);
      }
    } else {
      if (!labels.has(q)) labels.set(q, await primaryLabels(deps.runs, run, q));
      cluster = labels.get(q)![local];
    }
    out.push({ userId: x.rowIds[i], cluster, movies, ...(mix ? { mix } : {}), ...(recent ? { recent } : {}) });
  }
  return out;
}

/** A model of the given users only (their records in ascending user id); `recent`: the model keeps each
 * user's newest movies (the default model with recency; a user without a record starts with none). */
function usersModel(users: readonly FoldedUser[], lists: { clusters: ClusterModel['clusters']; popular: RankedList }, taste: boolean, recent: boolean): ClusterModel {
  const sorted = users.slice().sort((a, b) => a.userId - b.userId);
  const model: ClusterModel = { userIds: [], userCluster: [], userMoviePtr: [0], userMovies: [], clusters: lists.clusters, popular: lists.popular };
  const mix: UserMix | undefined = taste ? { ptr: [0], clusters: [], weights: [] } : undefined;
  const newest = recent ? { ptr: [0], movies: [] as number[] } : undefined;
  for (const u of sorted) {
    if (newest) {
      for (const m of u.recent ?? []) newest.movies.push(m);
      newest.ptr.push(newest.movies.length);
    }
    model.userIds.push(u.userId);
    model.userCluster.push(u.cluster);
    for (const m of u.movies) model.userMovies.push(m); // not a spread: a user may hold more movies than its argument limit
    model.userMoviePtr.push(model.userMovies.length);
    if (mix) {
      for (const c of u.mix?.clusters ?? [u.cluster]) mix.clusters.push(c);
      for (const w of u.mix?.weights ?? [1]) mix.weights.push(w);
      mix.ptr.push(mix.clusters.length);
    }
  }
  if (mix) model.mix = mix;
  if (newest) model.recent = newest;
  return model;
}

/** Whether the run's users have newest-movie histories (the default model with recency). */
const hasRecent = (run: RunState) => run.model!.params.algorithm === 'taste' && run.model!.times && run.model!.params.taste.halfLife > 0;

/** PublishStart: still publishable? fold the favourites, write the metadata, the lists and the new users. */
export async function publishStart(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const store = storeOf(deps);
  const run = await loadRun(deps.runs, event.version);
  const done = { ...event.loop!, next: 'done' as const };
  const pre = await store.checkPublishable(run.version, run.sourceOrder);
  if (pre !== 'ok') {
    await setStatus(deps, run.version, { phase: 'skipped', error: pre });
    await deps.lease?.release(executionNameOf(run.version));
    return done;
  }
  await setStatus(deps, run.version, { phase: 'publishing' });
  const lists = await modelLists(deps.runs, run.version);
  const popular = await getJson<RankedList>(deps.runs, runKeys.popular(run.version));
  const taste = run.model!.params.algorithm === 'taste';
  const foldStartedAt = (deps.now ?? Date.now)();
  const favourites = await store.listFavourites();
  const favUsers = [...new Set(favourites.map((f) => f.userId))];
  const rowOf = await rowsOfUsers(deps.runs, run, favUsers);
  const known = favUsers.filter((u) => (rowOf.get(u) ?? -1) >= 0).sort((a, b) => a - b);
  const trained = await trainedUsers(deps, run, known.map((u) => rowOf.get(u)!));
  // the lists as served: the default model's with their local matrices (the fold updates their counts too)
  const servable = await servableLists(deps.runs, run, lists.clusters);
  const recent = hasRecent(run);
  const model = usersModel(trained, { clusters: servable.clusters, popular }, taste, recent);
  for (const f of favourites) addFavourite(model, f.userId, f.movieId);
  // every folded user's record after the fold: the known ones replace their partition's, the new ones are
  // written here
  const folded: FoldedUser[] = model.userIds.map((userId, i) => ({
    userId,
    cluster: model.userCluster[i],
    movies: model.userMovies.slice(model.userMoviePtr[i], model.userMoviePtr[i + 1]),
    ...(model.mix ? { mix: { clusters: model.mix.clusters.slice(model.mix.ptr[i], model.mix.ptr[i + 1]), weights: model.mix.weights.slice(model.mix.ptr[i], model.mix.ptr[i + 1]) } } : {}),
    ...(model.recent ? { recent: model.recent.movies.slice(model.recent.ptr[i], model.recent.ptr[i + 1]) } : {}),
  }));
  const knownSet = new Set(known);
  const newUsers = folded.filter((u) => !knownSet.has(u.userId));
  const { summary } = await readSummary(deps, run.version);
  const users = run.shards!.n + newUsers.length;
  // what serving needs beside the lists, derived from the folded lists as the single path's publish does
  const extras = { similar: similarIndex(model), typical: typicalMovies({ clusters: model.clusters, popular: model.popular, userIds: { length: users } }) };
  const favouritesCarriedOver = { count: favourites.length, users: favUsers.length };
  const started = await store.startVersion({ clusters: model.clusters, popular: model.popular, users, taste, scoring: servable.scoring, extras }, run.version, run.source, {
    sourceOrder: run.sourceOrder,
    summary: { ...summary, favouritesCarriedOver },
  });
  if (!started.started) {
    await setStatus(deps, run.version, { phase: 'skipped', error: 'already-published' });
    await deps.lease?.release(executionNameOf(run.version));
    return done;
  }
  if (newUsers.length) await store.writeUsers(usersModel(newUsers, { clusters: [], popular }, taste, recent), run.version, 'fold');
  await putJson(deps.runs, runKeys.fold(run.version), { foldStartedAt, favourites: favourites.length, users: folded.filter((u) => knownSet.has(u.userId)) } satisfies Fold);
  return { ...event.loop!, next: 'publish' };
}

/** PublishUsers (one per partition): this partition's users, with the fold's records where it changed them. */
export async function publishUsers(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const store = storeOf(deps);
  const q = event.item;
  const run = await loadRun(deps.runs, event.version);
  const fold = await getJson<Fold>(deps.runs, runKeys.fold(run.version));
  const colIds = await movieIndex(deps.runs, run.version);
  const taste = run.model!.params.algorithm === 'taste';
  const { binary: x } = await loadShard(deps.runs, run.version, q, run.index!.d, 'binary');
  const overrides = new Map(fold.users.map((u) => [u.userId, u]));
  let cluster: ArrayLike<number>;
  let mix: UserMix | undefined;
  let recent: ClusterModel['recent'];
  if (taste) {
    const { sections } = await readSections(deps.runs, runKeys.mix(run.version, q), ['primary', 'ptr', 'clusters', 'weights']);
    cluster = sections.primary as Int32Array;
    mix = { ptr: Array.from(sections.ptr as Int32Array), clusters: Array.from(sections.clusters as Int32Array), weights: Array.from(sections.weights as Float64Array) };
    if (hasRecent(run)) {
      const r = await readSections(deps.runs, runKeys.mix(run.version, q), ['recentPtr', 'recentMovies']);
      recent = { ptr: Array.from(r.sections.recentPtr as Int32Array), movies: Array.from(r.sections.recentMovies as Float64Array) };
    }
  } else {
    cluster = await primaryLabels(deps.runs, run, q);
  }
  const users: ClusterModel = { userIds: Array.from(x.rowIds), userCluster: Array.from(cluster), userMoviePtr: Array.from(x.indptr), userMovies: Array.from(x.indices, (j) => colIds[j]), clusters: [], popular: { movieIds: [], counts: [] }, ...(mix ? { mix } : {}), ...(recent ? { recent } : {}) };
  const model = overrides.size && users.userIds.some((u) => overrides.has(u)) ? withOverrides(users, overrides) : users;
  await store.writeUsers(model, run.version, `q${q}`);
}

function withOverrides(users: ClusterModel, overrides: ReadonlyMap<number, FoldedUser>): ClusterModel {
  const records: FoldedUser[] = users.userIds.map((userId, i) => {
    const o = overrides.get(userId);
    if (o) return o;
    return {
      userId,
      cluster: users.userCluster[i],
      movies: users.userMovies.slice(users.userMoviePtr[i], users.userMoviePtr[i + 1]),
      ...(users.mix ? { mix: { clusters: users.mix.clusters.slice(users.mix.ptr[i], users.mix.ptr[i + 1]), weights: users.mix.weights.slice(users.mix.ptr[i], users.mix.ptr[i + 1]) } } : {}),
      ...(users.recent ? { recent: users.recent.movies.slice(users.recent.ptr[i], users.recent.ptr[i + 1]) } : {}),
    };
  });
  return usersModel(records, { clusters: [], popular: users.popular }, !!users.mix, !!users.recent);
}

/** Flip: the one conditional pointer update; then the late favourites replayed and old versions cleaned up. */
export async function flip(event: CentralEvent, deps: DistributedDeps): Promise<Loop & { status?: string }> {
  const store = storeOf(deps);
  const run = await loadRun(deps.runs, event.version);
  const fold = await getJson<Fold>(deps.runs, runKeys.fold(run.version));
  const written = await store.finishVersion(run.version, run.source, run.sourceOrder);
  if (written.status === 'published') {
    const since = new Date(fold.foldStartedAt - 300_000).toISOString();
    for (const f of await store.listFavourites({ since })) await countFavourite(store, run.version, f.userId, f.movieId);
    await store.cleanup(run.version, written.previous);
  }
  await setStatus(deps, run.version, written.status === 'published' ? { phase: 'published' } : { phase: 'skipped', error: written.status });
  await deps.lease?.release(executionNameOf(run.version));
  deps.log?.info('distributed publish finished', { version: run.version, status: written.status, active: written.active });
  return { ...event.loop!, next: 'done', status: written.status };
}
