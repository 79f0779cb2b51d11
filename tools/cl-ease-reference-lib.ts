// Reads a dump of the Python reference of the default model (the format of the research's crosscheck.py)
// and scores its users with the product's scorer (personal.ts scoreUser).
import { float32FromBytes } from '../functions/core/snapshot';
import { MixList, scoreUser } from '../functions/core/recommender/personal';

export interface ReferenceDump {
  params: { h: number; beta: number };
  clusters: Array<{ id: number; size: number; movieIds: number[]; counts: number[]; BOffset: number }>;
  users: Array<{ userId: number; moviesOldestFirst: number[]; mix: Array<[number, number]>; expectedTop10: number[] }>;
}

export function checkDump(dump: ReferenceDump, bBytes: Uint8Array): { users: Array<{ userId: number; same: boolean; got: number[]; expected: number[] }> } {
  const all = float32FromBytes(bBytes);
  const byId = new Map(
    dump.clusters.map((c) => {
      const L = c.movieIds.length;
      return [c.id, { size: c.size, movieIds: c.movieIds, counts: c.counts, b: all.subarray(c.BOffset, c.BOffset + L * L) }];
    }),
  );
  const scoring = { beta: dump.params.beta, halfLife: dump.params.h };
  return {
    users: dump.users.map((u) => {
      // the reference sums the mix clusters in ascending cluster id, as the dump lists them
      const lists: MixList[] = u.mix.map(([id, w]) => ({ ...byId.get(id)!, weight: w }));
      const got = scoreUser(lists, u.moviesOldestFirst, new Set(u.moviesOldestFirst), scoring, 10).map((i) => i.movieId);
      return { userId: u.userId, same: JSON.stringify(got) === JSON.stringify(u.expectedTop10), got, expected: u.expectedTop10 };
    }),
  };
}
