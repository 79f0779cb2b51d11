// The items of one model version (layout.ts): what a publish writes and which keys deleting it later
// removes. Pure functions of the model or of the version's metadata and manifest.
import type { ClusterList, ClusterModel } from '../../core/model';
import type { RankedList } from '../../core/ranked';
import type { ClusterMeta, SourceRef, VersionExtras, VersionMeta } from '../../ports';
import type { WriteRequest } from './batch-writer';
import type { Item } from './context';
import { keys, MANIFEST_PAGE_MOVIES, MANIFEST_PAGE_USERS, packAscending, packFloats, packInts, PAGE_SIZE, USER_SHARD_MOVIES } from './layout';
import { float32ToBytes } from '../../core/snapshot';

/** The metadata item of a version about to be written. */
export function versionMetaOf(
  model: ClusterModel,
  version: string,
  source: SourceRef,
  opts: { sourceOrder: string; summary?: Record<string, unknown>; createdAt: string; extras?: VersionExtras },
): VersionMeta {
  return versionMetaFrom({ clusters: model.clusters, popular: model.popular, users: model.userIds.length, taste: !!model.mix }, version, source, opts);
}

/** The same from the model's lists and its user count (a distributed publish never holds every user). */
export function versionMetaFrom(
  model: { clusters: readonly ClusterList[]; popular: RankedList; users: number; taste: boolean },
  version: string,
  source: SourceRef,
  opts: { sourceOrder: string; summary?: Record<string, unknown>; createdAt: string; extras?: VersionExtras },
): VersionMeta {
  const clusters: ClusterMeta[] = model.clusters.map((c) => ({
    id: c.id,
    size: c.size,
    length: c.movieIds.length,
    pages: Math.ceil(c.movieIds.length / PAGE_SIZE),
  }));
  return {
    version,
    state: 'writing',
    createdAt: opts.createdAt,
    source,
    sourceOrder: opts.sourceOrder,
    clusters,
    popular: { length: model.popular.movieIds.length, pages: Math.ceil(model.popular.movieIds.length / PAGE_SIZE) },
    users: model.users,
    algorithm: model.taste ? 'taste' : 'seed',
    summary: opts.summary ?? {},
    ...(opts.extras?.similar
      ? { similar: { movies: opts.extras.similar.movieIds.length, pages: Math.ceil(opts.extras.similar.movieIds.length / MANIFEST_PAGE_MOVIES) } }
      : {}),
  };
}

const userShards = (model: Pick<ClusterModel, 'userMoviePtr'>, i: number) =>
  Math.max(1, Math.ceil((model.userMoviePtr[i + 1] - model.userMoviePtr[i]) / USER_SHARD_MOVIES));

/** Clusters table: list pages of every cluster and of the popular list, the manifest of user ids, and each
 * movie's similar movies (with their own manifest) when the extras hold them. */
export function clusterItems(model: ClusterModel, version: string, extras: VersionExtras = {}): WriteRequest[] {
  return [...listItems(model.clusters, model.popular, version, extras.typical, model.scoring), ...manifestItems(model, version), ...similarItems(version, extras)];
}

/** List pages of every cluster and of the popular list. Page 0 carries what is cached with the list: its
 * size (taste scores divide by it), its typical movies (reasons name one) and, for CL-EASE, the local matrix
 * (100 × 100 float32 = 40 KB) and the version's serving settings. */
export function listItems(
  clusters: readonly ClusterList[],
  popular: RankedList,
  version: string,
  typical?: VersionExtras['typical'],
  scoring?: ClusterModel['scoring'],
): WriteRequest[] {
  const out: WriteRequest[] = [];
  const pages = (pk: string, list: RankedList, first: Item = {}) => {
    for (let p = 0; p * PAGE_SIZE < list.movieIds.length; p++) {
      const from = p * PAGE_SIZE;
      const to = Math.min(list.movieIds.length, from + PAGE_SIZE);
      const item: Item = { pk, sk: keys.page(p), m: packInts(list.movieIds, from, to), n: packInts(list.counts, from, to) };
      if (p === 0) Object.assign(item, first);
      out.push({ PutRequest: { Item: item } });
    }
  };
  for (const c of clusters) {
    const first: Item = { s: c.size };
    const typ = typical?.get(c.id);
    if (typ?.length) first.t = packInts(typ);
    if (c.local && scoring) {
      Object.assign(first, { e: packInts(c.local.movieIds), b: float32ToBytes(c.local.b), bt: scoring.beta, hl: scoring.halfLife });
    }
    pages(keys.clusterPk(version, c.id), c, first);
  }
  pages(keys.popularPk(version), popular);
  return out;
}

/** Manifest pages of the model's users (with their shard count when > 1), to delete the version later.
 * `part` names a publish part (a partition) so several parts' pages never collide. */
export function manifestItems(model: Pick<ClusterModel, 'userIds' | 'userMoviePtr'>, version: string, part?: string): WriteRequest[] {
  const out: WriteRequest[] = [];
  for (let p = 0; p * MANIFEST_PAGE_USERS < model.userIds.length; p++) {
    const ids: string[] = [];
    for (let i = p * MANIFEST_PAGE_USERS; i < Math.min(model.userIds.length, (p + 1) * MANIFEST_PAGE_USERS); i++) {
      const shards = userShards(model, i);
      ids.push(shards > 1 ? `${model.userIds[i].toString(36)}:${shards}` : model.userIds[i].toString(36));
    }
    out.push({ PutRequest: { Item: { pk: keys.manifestPk(version), sk: part ? `u#${part}#${keys.page(p)}` : `u#${keys.page(p)}`, u: ids.join(',') } } });
  }
  return out;
}

/** Each movie's similar movies, after their own manifest, when the extras hold them. */
export function similarItems(version: string, extras: VersionExtras): WriteRequest[] {
  const out: WriteRequest[] = [];
  const sim = extras.similar;
  if (sim) {
    // the manifest of the similar-movies items before them: batches go out in order (a few in flight), so a
    // publish that dies part-way has named the items it wrote, and a later cleanup finds them
    for (let p = 0; p * MANIFEST_PAGE_MOVIES < sim.movieIds.length; p++) {
      const s = packInts(sim.movieIds, p * MANIFEST_PAGE_MOVIES, Math.min(sim.movieIds.length, (p + 1) * MANIFEST_PAGE_MOVIES));
      out.push({ PutRequest: { Item: { pk: keys.manifestPk(version), sk: keys.similarManifestSk(p), s } } });
    }
    for (let i = 0; i < sim.movieIds.length; i++) {
      const from = sim.ptr[i];
      const to = sim.ptr[i + 1];
      // ≤ SIMILAR_MAX pairs: about 1 KB
      const item: Item = { ...keys.similar(version, sim.movieIds[i]), m: packInts(sim.neighbours, from, to), w: packFloats(sim.scores.slice(from, to)) };
      out.push({ PutRequest: { Item: item } });
    }
  }
  return out;
}

/** Users table: each user's head item (cluster, shard count, taste mix, first movies) and further shards. */
export function userItems(model: ClusterModel, version: string): WriteRequest[] {
  const out: WriteRequest[] = [];
  for (let i = 0; i < model.userIds.length; i++) {
    const start = model.userMoviePtr[i];
    const end = model.userMoviePtr[i + 1];
    const shards = userShards(model, i);
    const pk = keys.userPk(version, model.userIds[i]);
    for (let s = 0; s < shards; s++) {
      const from = start + s * USER_SHARD_MOVIES;
      const to = Math.min(end, from + USER_SHARD_MOVIES);
      const item: Item = { pk, sk: keys.userSk(s), m: packAscending(model.userMovies, from, to) };
      if (s === 0) Object.assign(item, { c: model.userCluster[i], n: shards });
      if (s === 0 && model.mix) {
        const { ptr, clusters, weights } = model.mix;
        Object.assign(item, { x: packInts(clusters, ptr[i], ptr[i + 1]), w: packFloats(weights.slice(ptr[i], ptr[i + 1])) });
      }
      if (s === 0 && model.recent) item.r = packInts(model.recent.movies, model.recent.ptr[i], model.recent.ptr[i + 1]);
      out.push({ PutRequest: { Item: item } });
    }
  }
  return out;
}

/** Keys of a version's list pages (from its metadata). */
export function pageKeysOf(m: VersionMeta): Item[] {
  const out: Item[] = [];
  const pageKeys = (pk: string, pages: number) => {
    for (let p = 0; p < pages; p++) out.push({ pk, sk: keys.page(p) });
  };
  for (const c of m.clusters) pageKeys(keys.clusterPk(m.version, c.id), c.pages);
  pageKeys(keys.popularPk(m.version), m.popular.pages);
  return out;
}

/** Keys of the similar-movies items one manifest item names (clusters table; none for a user page). */
export function similarKeysOf(version: string, manifestItem: Item): Item[] {
  if (typeof manifestItem.s !== 'string' || !manifestItem.s) return [];
  return manifestItem.s.split(',').map((id) => keys.similar(version, parseInt(id, 36)));
}

/** Keys of the users one manifest item names: a page of trained users (`u`) or a user the API created. */
export function userKeysOf(version: string, manifestItem: Item): Item[] {
  const out: Item[] = [];
  if (typeof manifestItem.u === 'string' && manifestItem.u) {
    for (const entry of manifestItem.u.split(',')) {
      const [id, shards] = entry.split(':');
      const userId = parseInt(id, 36);
      for (let s = 0; s < (shards ? Number(shards) : 1); s++) out.push({ pk: keys.userPk(version, userId), sk: keys.userSk(s) });
    }
  } else if (typeof manifestItem.userId === 'number') {
    out.push({ pk: keys.userPk(version, manifestItem.userId), sk: keys.userSk(0) });
  }
  return out;
}
