// Use case: the active model version's metadata (GET /models/active), including where its batch export is:
// the metadata is read fresh, since the export's state changes after the version went live.
import type { ActiveModelT } from '../api/schemas';
import type { ModelVersions } from '../ports';
import { activeOrThrow } from './active';
import { NoModelError } from './errors';

export async function activeModel(store: Pick<ModelVersions, 'activeVersion' | 'versionMeta'>): Promise<ActiveModelT> {
  const ptr = await activeOrThrow(store);
  const meta = await store.versionMeta(ptr.version, { fresh: true });
  if (!meta) throw new NoModelError();
  return {
    version: ptr.version,
    activatedAt: ptr.activatedAt,
    previous: ptr.previous,
    createdAt: meta.createdAt,
    source: { bucket: meta.source.bucket, key: meta.source.key, versionId: meta.source.versionId, etag: meta.source.etag },
    users: meta.users,
    clusters: meta.clusters.map((c) => ({ id: c.id, size: c.size, movies: c.length })),
    summary: meta.summary,
    ...(meta.export ? { export: meta.export } : {}),
  };
}
