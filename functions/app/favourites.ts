// Use case: a user adds a favourite movie (POST /users/{id}/movies), and the one path that counts a recorded
// favourite into a version — used by the API and by a publish replaying the favourites recorded while it
// wrote. The order of steps, each idempotent, and why every favourite ends up in the newest version exactly
// once: docs/ARCHITECTURE.md ("Favourites"). The rules are core's (placeUser, the seed's counting); the
// store only persists and fetches.
import type { FavouriteResponseT } from '../api/schemas';
import { placeUser } from '../core/model';
import type { ClusterLists, FavouriteLog, ModelVersions, UserStore } from '../ports';
import { activeOrThrow } from './active';
import { FavouriteLimitError } from './errors';

export type FavouriteStore = Pick<ModelVersions, 'activeVersion' | 'versionMeta'> & UserStore & ClusterLists & FavouriteLog;

export interface FavouriteOutcome {
  cluster: number;
  /** false when the user already had the movie: nothing was counted */
  added: boolean;
  /** the movie's count in the user's cluster after the call */
  count: number;
  newUser: boolean;
}

/** Record the favourite durably first (so a publish running now cannot lose it), then count it into the
 * version the pointer names now (read fresh, not from the cache). */
export async function addFavourite(
  store: FavouriteStore,
  userId: number,
  movieId: number,
  now: () => number = Date.now,
): Promise<FavouriteResponseT> {
  await store.recordFavourite(userId, movieId, new Date(now()).toISOString());
  const { version } = await activeOrThrow(store, true);
  const r = await countFavourite(store, version, userId, movieId);
  return { userId, movieId, modelVersion: version, cluster: r.cluster, added: r.added, count: r.count, newUser: r.newUser };
}

/**
 * Count a recorded favourite into one version, once per (user, movie, version): core addFavourite's
 * semantics over the store. A movie the user already has counts nothing. A user the version does not know
 * is placed by the fixClusters rule (core placeUser: the lowest cluster id whose live list holds the movie,
 * else the lowest id) and joins that cluster; the claim of (user, movie) is a conditional write, so
 * concurrent or retried calls count once.
 */
export async function countFavourite(store: FavouriteStore, version: string, userId: number, movieId: number): Promise<FavouriteOutcome> {
  const meta = await store.versionMeta(version);
  if (!meta) throw new Error(`model version ${version} has no metadata`);
  let user = await store.getUser(version, userId, { consistent: true });
  if (!user) {
    const ids = meta.clusters.map((c) => c.id).sort((a, b) => a - b);
    const holds = await store.listsHolding(version, ids, movieId);
    const cluster = ids[placeUser(holds.map((h) => ({ has: () => h })), [movieId]).index];
    if (await store.createUser(version, userId, cluster, movieId, { taste: meta.algorithm === 'taste' })) {
      return { cluster, added: true, count: await store.countFavourite(version, cluster, movieId, { newUser: true }), newUser: true };
    }
    user = await store.getUser(version, userId, { consistent: true }); // created concurrently
    if (!user) throw new Error(`user ${userId} vanished while adding a favourite`);
  }
  const unchanged = async (): Promise<FavouriteOutcome> => ({
    cluster: user!.cluster,
    added: false,
    count: await store.movieCount(version, user!.cluster, movieId),
    newUser: false,
  });
  if (binaryHas(user.movies, movieId) || binaryHas(user.favourites, movieId)) return unchanged();
  if (user.favourites.length >= store.favouriteLimit) throw new FavouriteLimitError(store.favouriteLimit);
  // a concurrent request for the same (user, movie) may win the claim: it counts, we do not
  if (!(await store.claimFavourite(version, userId, movieId))) return unchanged();
  return { cluster: user.cluster, added: true, count: await store.countFavourite(version, user.cluster, movieId, { newUser: false }), newUser: false };
}

function binaryHas(xs: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] === x) return true;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
