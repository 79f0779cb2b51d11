// The seed project's behaviours, each on a small worked example computed by hand (comments show the work).
import fc from 'fast-check';
import { buildSeedModel, clusterCounts, popularList } from '../../functions/core/cluster-lists';
import { addFavourite, recommend, userMovies } from '../../functions/core/model';
import { incrementRanked, rankPairs } from '../../functions/core/ranked';
import { fromSnapshot, SEED_PARAMS, toSnapshot } from '../../functions/core/snapshot';
import { InputError } from '../../functions/core/types';
import { csrFromLists } from '../support/csr';

// users 1..8; labels: users 1-3 → cluster 0 (A), 4-6 → 1 (B), 7 → 2 (C), 8 → 3 (D)
const LISTS = {
  1: [1, 2, 3],
  2: [1, 2],
  3: [2, 3],
  4: [4, 5],
  5: [4, 5, 6],
  6: [5, 6],
  7: [1, 4, 7],
  8: [9, 7, 5],
};
const LABELS = [0, 0, 0, 1, 1, 1, 2, 3];

const fresh = () => buildSeedModel(csrFromLists(LISTS), LABELS, 2);

describe('per-cluster movie counts', () => {
  it('counts users per movie in each cluster, sorted by count desc then movieId asc', () => {
    const lists = clusterCounts(csrFromLists(LISTS), LABELS);
    // A: movie 2 ← users 1,2,3 (3); movie 1 ← 1,2 (2); movie 3 ← 1,3 (2) → 2(3) 1(2) 3(2)
    expect(lists[0]).toEqual({ id: 0, size: 3, movieIds: [2, 1, 3], counts: [3, 2, 2] });
    // B: 5 ← 4,5,6 (3); 4 ← 4,5 (2); 6 ← 5,6 (2) → 5(3) 4(2) 6(2)
    expect(lists[1]).toEqual({ id: 1, size: 3, movieIds: [5, 4, 6], counts: [3, 2, 2] });
    expect(lists[2]).toEqual({ id: 2, size: 1, movieIds: [1, 4, 7], counts: [1, 1, 1] });
    expect(lists[3]).toEqual({ id: 3, size: 1, movieIds: [5, 7, 9], counts: [1, 1, 1] });
  });

  it('rejects labels of the wrong length', () => {
    expect(() => clusterCounts(csrFromLists(LISTS), [0, 1])).toThrow(/2 labels for 8 users/);
  });

  it('ranks ties by movieId ascending', () => {
    expect(rankPairs([30, 10, 20, 40], [1, 2, 2, 5])).toEqual({ movieIds: [40, 10, 20, 30], counts: [5, 2, 2, 1] });
  });

  it('ranks exactly as the (count desc, movieId asc) comparator, on packable values and on values that are not', () => {
    const compared = (ids: number[], cs: number[]) => {
      const order = ids.map((_, i) => i).sort((a, b) => cs[b] - cs[a] || ids[a] - ids[b]);
      return { movieIds: order.map((i) => ids[i]), counts: order.map((i) => cs[i]) };
    };
    const edgeIds = [0, 1, 2 ** 32 - 1, 2 ** 32 - 2];
    const edgeCounts = [0, 1, 2 ** 21 - 1, 2 ** 21 - 2];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.nat(1000), fc.constantFrom(...edgeIds)), fc.oneof(fc.nat(40), fc.constantFrom(...edgeCounts))), { maxLength: 300 }),
        (pairs) => {
          const ids = pairs.map((p) => p[0]);
          const cs = pairs.map((p) => p[1]);
          expect(rankPairs(ids, cs)).toEqual(compared(ids, cs));
        },
      ),
    );
    // outside the packed range (a huge id, a huge count, a negative or fractional value): the comparator path
    for (const [ids, cs] of [
      [[5, 2 ** 40, 7], [1, 1, 1]],
      [[5, 6, 7], [2 ** 22, 1, 2 ** 22]],
      [[-1, 6, 3], [2, 2, 2]],
      [[1.5, 6, 3], [2, 0.5, 2]],
    ]) {
      expect(rankPairs(ids, cs)).toEqual(compared(ids, cs));
    }
  });
});

describe('fixClusters', () => {
  it('dissolves small clusters in ascending id, moving users by largest share in the ORIGINAL lists, ties to the lowest id', () => {
    const { model, fix } = fresh();
    // Original lists: A = 2,1,3; B = 5,4,6. Shares are measured against these, before any move.
    // C (user 7: 1,4,7): share in A = 1/3 (movie 1), in B = 1/3 (movie 4): tie → A (id 0).
    //   4 and 7 are appended to A with count 1, ascending.
    // D (user 8: 5,7,9): A's original list holds none → 0; B holds 5 → 1/3 → B.
    //   Here the two semantics differ: had the 7 appended to A for user 7 counted, A would score 1/3,
    //   tie with B, and user 8 would go to A (movierec before it adopted the seed's rule). The seed measures against the
    //   original lists. 7 and 9 are appended to B; 5 is already there and keeps its count.
    expect(fix.dissolved).toEqual([2, 3]);
    expect(fix.moves).toEqual([
      { userId: 7, from: 2, to: 0, share: 1 / 3 },
      { userId: 8, from: 3, to: 1, share: 1 / 3 },
    ]);
    expect(fix.sizesBefore).toEqual({ 0: 3, 1: 3, 2: 1, 3: 1 });
    expect(fix.sizesAfter).toEqual({ 0: 4, 1: 4 });
    expect(model.clusters.map((c) => c.id)).toEqual([0, 1]);
    expect(model.clusters[0].movieIds).toEqual([2, 1, 3, 4, 7]);
    expect(model.clusters[0].counts).toEqual([3, 2, 2, 1, 1]);
    expect(model.clusters[1].movieIds).toEqual([5, 4, 6, 7, 9]);
    expect(model.clusters[1].counts).toEqual([3, 2, 2, 1, 1]);
    expect(model.userCluster).toEqual([0, 0, 0, 1, 1, 1, 0, 1]);
  });

  it('moves a user to the list holding the largest share even when it is not the lowest id, appending each movie once', () => {
    // user 7 now has 1,4,5,7: B holds 4,5 → 2/4, A holds 1 → 1/4 → B; 1 and 7 are appended to B
    const { model, fix } = buildSeedModel(csrFromLists({ ...LISTS, 7: [1, 4, 5, 7] }), LABELS, 2);
    expect(fix.moves[0]).toEqual({ userId: 7, from: 2, to: 1, share: 2 / 4 });
    // then user 8 (5,7,9): A's original list holds none, B's holds 5 → 1/3 → B (the 7 appended for user 7
    // does not count: it would make 2/3). 9 is appended; 7 is missing from B's original list too, and
    // the seed would append it a second time: here it is already in the list and is not repeated.
    expect(fix.moves[1]).toEqual({ userId: 8, from: 3, to: 1, share: 1 / 3 });
    expect(model.clusters[1].movieIds).toEqual([5, 4, 6, 1, 7, 9]);
    expect(model.clusters[1].counts).toEqual([3, 2, 2, 1, 1, 1]);
  });

  it('keeps everything when minClusterSize is 0, and when no cluster is large enough', () => {
    expect(buildSeedModel(csrFromLists(LISTS), LABELS, 0).model.clusters).toHaveLength(4);
    const none = buildSeedModel(csrFromLists(LISTS), LABELS, 10);
    expect(none.model.clusters).toHaveLength(4);
    expect(none.fix.moves).toEqual([]);
  });
});

describe('recommendations', () => {
  it("are the user's cluster list minus the user's movies, with n and offset", () => {
    const { model } = fresh();
    // user 8 is in B = 5,4,6,7,9 and has 5,7,9 → 4,6
    expect(recommend(model, 8).items.map((i) => i.movieId)).toEqual([4, 6]);
    // user 4 (B) has 4,5 → 6,7,9
    expect(recommend(model, 4, { n: 2, offset: 1 }).items).toEqual([
      { movieId: 7, score: 1 },
      { movieId: 9, score: 1 },
    ]);
    // user 1 (A = 2,1,3,4,7) has 1,2,3 → 4,7: fewer than n
    const r = recommend(model, 1, { n: 3 });
    expect(r).toMatchObject({ userId: 1, source: 'cluster', cluster: 0 });
    expect(r.items.map((i) => i.movieId)).toEqual([4, 7]);
  });

  it('give an unknown user the global most-popular list, marked as such', () => {
    const { model } = fresh();
    // user counts: 5 ← 4,5,6,8 (4); 1 ← 1,2,7; 2 ← 1,2,3; 4 ← 4,5,7 (3 each); 3,6,7 (2 each); 9 (1)
    expect(popularList(csrFromLists(LISTS))).toEqual({ movieIds: [5, 1, 2, 4, 3, 6, 7, 9], counts: [4, 3, 3, 3, 2, 2, 2, 1] });
    const r = recommend(model, 999, { n: 3 });
    expect(r).toEqual({
      userId: 999,
      source: 'popular',
      cluster: null,
      items: [
        { movieId: 5, score: 4 },
        { movieId: 1, score: 3 },
        { movieId: 2, score: 3 },
      ],
    });
  });

  it('reject invalid n and offset with an InputError', () => {
    const { model } = fresh();
    expect(() => recommend(model, 1, { n: 0 })).toThrow(InputError);
    expect(() => recommend(model, 1, { offset: -1 })).toThrow(InputError);
    expect(() => recommend(model, 1, { n: 1.5 })).toThrow(/n must be an integer/);
  });

  it("list the user's own movies (getMyMovies)", () => {
    const { model } = fresh();
    expect(userMovies(model, 8)).toEqual([5, 7, 9]);
    expect(userMovies(model, 999)).toEqual([]);
  });
});

describe('addFavourite (the seed updatedFavouriteMoviesList)', () => {
  it('appends a new movie with count 1 and adds it to the history', () => {
    const { model } = fresh();
    const r = addFavourite(model, 4, 1); // user 4 is in B = 5(3) 4(2) 6(2) 7(1) 9(1)
    expect(r).toEqual({ userId: 4, movieId: 1, cluster: 1, added: true, count: 1, newUser: false });
    // 1 enters with count 1 and the movieId tie rule puts it before 7 and 9
    expect(model.clusters[1].movieIds).toEqual([5, 4, 6, 1, 7, 9]);
    expect(model.clusters[1].counts).toEqual([3, 2, 2, 1, 1, 1]);
    expect(userMovies(model, 4)).toEqual([1, 4, 5]);
    expect(recommend(model, 4).items.map((i) => i.movieId)).toEqual([6, 7, 9]);
  });

  it('increments an existing count and re-ranks with the movieId tie rule', () => {
    const { model } = fresh();
    // user 6 (5,6) in B adds 4: 4 goes 2 → 3 and ties with 5(3): movieId asc puts 4 first
    expect(addFavourite(model, 6, 4)).toMatchObject({ added: true, count: 3 });
    expect(model.clusters[1].movieIds).toEqual([4, 5, 6, 7, 9]);
    expect(model.clusters[1].counts).toEqual([3, 3, 2, 1, 1]);
    // the same favourite again counts nothing
    expect(addFavourite(model, 6, 4)).toMatchObject({ added: false, count: 3 });
    expect(model.clusters[1].counts).toEqual([3, 3, 2, 1, 1]);
    expect(userMovies(model, 6)).toEqual([4, 5, 6]);
    // later users' histories are untouched by the insertion
    expect(userMovies(model, 7)).toEqual([1, 4, 7]);
  });

  it('places an unknown user by the fixClusters rule and starts their history', () => {
    const { model } = fresh();
    // movie 6 is only in B's list → B; 6 goes 2 → 3, ties with 5(3); order 5,6 by movieId; 4 stays 2
    const r = addFavourite(model, 100, 6);
    expect(r).toEqual({ userId: 100, movieId: 6, cluster: 1, added: true, count: 3, newUser: true });
    expect(model.clusters[1].movieIds).toEqual([5, 6, 4, 7, 9]);
    expect(model.clusters[1].size).toBe(5);
    expect(userMovies(model, 100)).toEqual([6]);
    expect(recommend(model, 100)).toMatchObject({ source: 'cluster', cluster: 1 });
    expect(recommend(model, 100).items.map((i) => i.movieId)).toEqual([5, 4, 7, 9]);
  });

  it('incrementRanked keeps the order invariant for every position', () => {
    const list = { movieIds: [10, 20, 30, 40], counts: [5, 3, 3, 1] };
    incrementRanked(list, 40); // 1 → 2: stays last
    incrementRanked(list, 30); // 3 → 4: passes 20
    incrementRanked(list, 50); // new, count 1 → end
    expect(list).toEqual({ movieIds: [10, 30, 20, 40, 50], counts: [5, 4, 3, 2, 1] });
  });
});

describe('model snapshot', () => {
  const meta = {
    params: SEED_PARAMS,
    data: { format: 'csv' as const, gzip: false, bytes: 1, rowsRead: 19, rowsAccepted: 19, rowsRejected: 0, rejectedByReason: {}, examples: [] },
    training: { inertia: 1, iterations: 2, inertias: [1], seconds: {}, fix: fresh().fix },
  };

  it('round-trips through JSON to a model that answers the same', () => {
    const { model } = fresh();
    const json = JSON.parse(JSON.stringify(toSnapshot(model, meta)));
    const back = fromSnapshot(json).model;
    for (const u of [1, 4, 8, 999]) expect(recommend(back, u)).toEqual(recommend(model, u));
  });

  it('refuses documents that are not models, or are inconsistent, with a clear reason', () => {
    const { model } = fresh();
    const good = JSON.parse(JSON.stringify(toSnapshot(model, meta)));
    expect(() => fromSnapshot([], 'x.json')).toThrow(/x.json is not a valid movierec model: missing kind/);
    expect(() => fromSnapshot({ ...good, schemaVersion: 99 })).toThrow(/schema version 99/);
    expect(() => fromSnapshot({ ...good, users: { ...good.users, cluster: [0] } })).toThrow(/disagree in length/);
    const bad = structuredClone(good);
    bad.users.cluster[0] = 42;
    expect(() => fromSnapshot(bad)).toThrow(/unknown cluster 42/);
  });
});
