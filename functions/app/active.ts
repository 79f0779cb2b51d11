// The active version, read once per request: every read of a request names this one version, so a request
// never mixes versions.
import type { ActivePointer, ModelVersions } from '../ports';
import { NoModelError } from './errors';

export async function activeOrThrow(store: Pick<ModelVersions, 'activeVersion'>, fresh = false): Promise<ActivePointer> {
  const ptr = await store.activeVersion({ fresh });
  if (!ptr) throw new NoModelError();
  return ptr;
}
