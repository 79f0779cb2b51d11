// Use case: make a trained model the live version. The store writes and flips (one conditional pointer
// update); this composes the protocol around it, whose rules are core's:
//   1. fold every favourite recorded so far into the model (core addFavourite, in recorded order), and derive
//      what serving needs beside the lists: similar movies and each cluster's typical movies (core);
//   2. write the version and flip the pointer (ModelVersions.writeVersion);
//   3. replay the favourites recorded while it wrote (they were counted into the old version) through the
//      API's own idempotent path (countFavourite);
//   4. delete versions nobody can roll back to.
// Steps, failure cases and the "every favourite exactly once" argument: docs/ARCHITECTURE.md.
import { typicalMovies } from '../core/explain';
import { addFavourite, type ClusterModel } from '../core/model';
import { similarIndex } from '../core/similar';
import type { ModelVersions, PublishResult, SourceRef, VersionExtras } from '../ports';
import { countFavourite, type FavouriteStore } from './favourites';

export type PublishStore = FavouriteStore & Pick<ModelVersions, 'checkPublishable' | 'writeVersion' | 'cleanup'>;

export interface PublishOptions {
  sourceOrder: string;
  summary?: Record<string, unknown>;
  /** favourites recorded up to this long before the fold are replayed again after the flip (clock skew; 5 min) */
  replayMarginMs?: number;
  now?: () => number;
}

/**
 * Publish `model` as `version`. The model is taken over: recorded favourites are folded into it in place.
 * Publishability is decided here, right before anything is written (a newer version may have gone live
 * while this one trained): already live → 'already-published'; a newer source live → 'stale', nothing written.
 */
export async function publishModel(
  store: PublishStore,
  model: ClusterModel,
  version: string,
  source: SourceRef,
  opts: PublishOptions,
): Promise<PublishResult> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const pre = await store.checkPublishable(version, opts.sourceOrder);
  if (pre !== 'ok') return { status: pre, version, active: (await store.activeVersion())?.version ?? null };

  const foldStartedAt = now();
  const favourites = await store.listFavourites();
  for (const f of favourites) addFavourite(model, f.userId, f.movieId);
  const t1 = now();
  const extras: VersionExtras = { similar: similarIndex(model), typical: typicalMovies(model) };
  const extrasSeconds = (now() - t1) / 1000;

  // favourites are kept across versions whatever file a version is trained from: the version says how many it
  // took over, so whoever reads it (GET /models/active, the upload's output) sees that they came along
  const favouritesCarriedOver = { count: favourites.length, users: new Set(favourites.map((f) => f.userId)).size };
  const written = await store.writeVersion(model, version, source, {
    sourceOrder: opts.sourceOrder,
    summary: { ...opts.summary, favouritesCarriedOver },
    extras,
  });
  if (written.status !== 'published') return { status: written.status, version, active: written.active };

  const since = new Date(foldStartedAt - (opts.replayMarginMs ?? 300_000)).toISOString();
  const late = await store.listFavourites({ since });
  for (const f of late) await countFavourite(store, version, f.userId, f.movieId);

  const expired = await store.cleanup(version, written.previous);
  return {
    status: 'published',
    version,
    active: version,
    expired,
    stats: {
      items: written.items,
      batchRequests: written.batchRequests,
      retriedItems: written.retriedItems,
      favouritesFolded: favourites.length,
      favouritesReplayed: late.length,
      similarMovies: extras.similar!.movieIds.length,
      extrasSeconds,
      seconds: (now() - t0) / 1000,
    },
  };
}
