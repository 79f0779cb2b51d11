// Why a movie is recommended, in terms a user recognises: "because you watched Heat (1995)". Each cluster gets
// a short list of its most typical movies at training time — those its users have far more often than users in
// general — and an item's reason names the first of them the user has watched, in the cluster that contributes
// most to the item. Pure functions of the servable model (cluster lists, sizes, the popular list).
import type { ClusterModel } from './model';

/** Typical movies kept per cluster (stored with the cluster's list). */
export const TYPICAL_MAX = 100;

/**
 * Per cluster id: up to TYPICAL_MAX movies ranked by share_c · ln(share_c / share_all) — a movie's share of the
 * cluster's users times its log-lift over all users (its term in the KL divergence between the cluster and
 * everyone), so a movie must be both common in the cluster and distinctive of it; only lift > 1 counts. Ties by
 * movieId ascending.
 */
export function typicalMovies(model: Pick<ClusterModel, 'clusters' | 'popular'> & { userIds: { length: number } }, max = TYPICAL_MAX): Map<number, number[]> {
  const users = model.userIds.length;
  const overall = new Map<number, number>();
  model.popular.movieIds.forEach((m, i) => overall.set(m, model.popular.counts[i] / Math.max(1, users)));
  const out = new Map<number, number[]>();
  for (const c of model.clusters) {
    const scored: Array<{ m: number; w: number }> = [];
    if (c.size > 0) {
      for (let i = 0; i < c.movieIds.length; i++) {
        const share = c.counts[i] / c.size;
        const all = overall.get(c.movieIds[i]);
        if (!(share > 0) || !(all! > 0) || !(share > all!)) continue;
        scored.push({ m: c.movieIds[i], w: share * Math.log(share / all!) });
      }
    }
    scored.sort((a, b) => b.w - a.w || a.m - b.m);
    out.set(c.id, scored.slice(0, max).map((s) => s.m));
  }
  return out;
}

/** The first of a cluster's typical movies the user has watched, if any. */
export function becauseOf(typical: readonly number[] | undefined, watched: { has(m: number): boolean }): number | undefined {
  if (!typical) return undefined;
  for (const m of typical) if (watched.has(m)) return m;
  return undefined;
}
