// Use case: the active model version's metadata (GET /models/active), including where its batch export is:
// the metadata is read fresh, since the export's state changes after the version went live.
import type { ActiveModelT } from '../api/schemas';
import type { ModelVersions } from '../ports';
import type { TrainingStatusStore } from '../ports/training-run';
import { activeOrThrow } from './active';
import { NoModelError } from './errors';

export async function activeModel(
  store: Pick<ModelVersions, 'activeVersion' | 'versionMeta'>,
  training?: Pick<TrainingStatusStore, 'get'>,
): Promise<ActiveModelT> {
  const [ptr, status] = await Promise.all([activeOrThrow(store), training?.get() ?? null]);
  const meta = await store.versionMeta(ptr.version, { fresh: true });
  if (!meta) throw new NoModelError();
  const carried = meta.summary?.favouritesCarriedOver as { count: number; users: number } | undefined;
  return {
    version: ptr.version,
    activatedAt: ptr.activatedAt,
    previous: ptr.previous,
    createdAt: meta.createdAt,
    source: { bucket: meta.source.bucket, key: meta.source.key, versionId: meta.source.versionId, etag: meta.source.etag },
    users: meta.users,
    clusters: meta.clusters.map((c) => ({ id: c.id, size: c.size, movies: c.length })),
    ...(carried ? { favourites: { carriedOver: carried.count, users: carried.users, note: carriedNote(carried) } } : {}),
    summary: meta.summary,
    ...(meta.export ? { export: meta.export } : {}),
    ...(status ? { training: status } : {}),
  };
}

/** One sentence on the favourites a version took over (also printed after an upload). */
export function carriedNote(c: { count: number; users: number }): string {
  if (!c.count) return 'No favourites were carried over from earlier models.';
  return `${c.count} favourite${c.count === 1 ? '' : 's'} of ${c.users} user${c.users === 1 ? '' : 's'}, added through the API before this model was published, were carried over from earlier models: their user and movie ids are taken to mean the same in this file.`;
}
