// Use case: the active model version's metadata (GET /models/active).
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
  const meta = await store.versionMeta(ptr.version);
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
    ...(status ? { training: status } : {}),
  };
}
