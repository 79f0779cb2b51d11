// The core of the recommendation features: filters inside the ranking walk (full pages), similar movies from
// cluster statistics, typical movies for reasons, and the export rows — each against a worked example or the
// plain definition.
import fc from 'fast-check';
import { becauseOf, typicalMovies } from '../../functions/core/explain';
import { EXPORT_HEADER, recommendationRows } from '../../functions/core/export-rows';
import { genreIndex, skipSet } from '../../functions/core/filters';
import { takeUnseen, type ClusterModel } from '../../functions/core/model';
import { mergeWeightedLists, recommendFor, type WeightedList } from '../../functions/core/recommender';
import { NEIGHBOURS_PER_LIST, SIMILAR_MAX, similarIndex, similarMovies, SimilarScorer } from '../../functions/core/similar';
import { InputError } from '../../functions/core/types';
import { MAX_SIMILAR_N } from '../../functions/api/schemas';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';

const CATALOGUE = new Map<number, { genres: string[] }>([
  [1, { genres: ['Comedy'] }],
  [2, { genres: ['Comedy', 'Romance'] }],
  [3, { genres: ['Horror'] }],
  [4, { genres: ['Comedy', 'Horror'] }],
  [5, { genres: ['Drama'] }],
  [6, { genres: [] }],
]);
const NONE = new Set<number>();

describe('filters (skipSet)', () => {
  const list = { movieIds: [1, 2, 3, 4, 5, 6], counts: [9, 8, 7, 6, 5, 4] };
  const ids = (f: Parameters<typeof skipSet>[1], n = 10, offset = 0, seen = NONE) =>
    takeUnseen(list, skipSet(seen, f, CATALOGUE), n, offset).map((i) => i.movieId);

  test('genre keeps movies with ANY of the genres, case-insensitively; excludeGenre drops any; exclude drops ids', () => {
    expect(ids({ genres: ['comedy'] })).toEqual([1, 2, 4]);
    expect(ids({ genres: ['Romance', 'HORROR'] })).toEqual([2, 3, 4]);
    expect(ids({ excludeGenres: ['Horror'] })).toEqual([1, 2, 5, 6]);
    expect(ids({ exclude: [1, 5] })).toEqual([2, 3, 4, 6]);
    expect(ids({ genres: ['Comedy'], excludeGenres: ['Horror'], exclude: [1] })).toEqual([2]);
  });

  test('a page is n items of what passes, and offset counts passing items only', () => {
    // unfiltered the first two are 1, 2; with Comedy excluded the page still holds 2 items
    expect(ids({ excludeGenres: ['Comedy'] }, 2)).toEqual([3, 5]);
    expect(ids({ excludeGenres: ['Comedy'] }, 2, 1)).toEqual([5, 6]);
    // the user's own movies are skipped too
    expect(ids({ genres: ['Comedy'] }, 2, 0, new Set([2]))).toEqual([1, 4]);
  });

  test('edge cases: offset past the end and every item excluded give an empty page', () => {
    expect(ids({ genres: ['Comedy'] }, 10, 3)).toEqual([]);
    expect(ids({ exclude: [1, 2, 3, 4, 5, 6] })).toEqual([]);
    expect(ids({ genres: ['Drama'], excludeGenres: ['Drama'] })).toEqual([]);
  });

  test('an unknown genre is an InputError naming the catalogue’s genres; a genre filter needs a catalogue', () => {
    expect(() => skipSet(NONE, { genres: ['Comdy'] }, CATALOGUE)).toThrow(
      new InputError('unknown_genre', 'genre: the catalogue has no genre "Comdy"; its genres are Comedy, Drama, Horror, Romance.'),
    );
    expect(() => skipSet(NONE, { excludeGenres: ['Westrn'] }, CATALOGUE)).toThrow(/^excludeGenre: the catalogue has no genre "Westrn"/);
    for (const empty of [undefined, new Map()]) {
      expect(() => skipSet(NONE, { genres: ['Comedy'] }, empty)).toThrow(expect.objectContaining({ code: 'no_catalogue' }));
    }
    // ids alone need no catalogue, and no filter returns `seen` itself (the unfiltered path is untouched)
    expect(skipSet(NONE, { exclude: [1] }, undefined).has(1)).toBe(true);
    expect(skipSet(NONE, {}, undefined)).toBe(NONE);
  });

  test('the genre index is built once per catalogue object', () => {
    expect(genreIndex(CATALOGUE)).toBe(genreIndex(CATALOGUE));
    expect(genreIndex(CATALOGUE).names).toEqual(['Comedy', 'Drama', 'Horror', 'Romance']);
  });

  // the three ways a filter is decided: genre bit masks in an array (small ids), in a Map (ids beyond the
  // array), and the genre sets themselves (a catalogue of more than 31 genres)
  test.each([
    ['genre masks, dense', 0, 0],
    ['genre masks, sparse', 2 ** 40, 0],
    ['genre sets (40 genres)', 0, 40],
  ])('property (%s): a filtered merge = the full unfiltered ranking, filtered, then paged', (_name, base, extraGenres) => {
    const movie = fc.integer({ min: 1, max: 30 }).map((m) => base + m);
    const wl = fc.record({
      weight: fc.constantFrom(0.2, 0.5, 1),
      size: fc.integer({ min: 1, max: 9 }),
      pairs: fc.uniqueArray(fc.tuple(movie, fc.integer({ min: 1, max: 6 })), { selector: (p) => p[0], maxLength: 25 }),
    });
    const catalogue = new Map(Array.from({ length: 30 }, (_, i) => [base + i + 1, { genres: [['A'], ['B'], ['A', 'B'], []][i % 4] }]));
    for (let g = 0; g < extraGenres; g++) catalogue.set(base + 100 + g, { genres: [`G${g}`] });
    const idx = genreIndex(catalogue);
    expect(idx.masks === null).toBe(extraGenres > 0);
    expect(idx.masks instanceof Map).toBe(base > 0 && extraGenres === 0);
    fc.assert(
      fc.property(
        fc.array(wl, { maxLength: 5 }),
        fc.uniqueArray(movie, { maxLength: 6 }),
        fc.uniqueArray(movie, { maxLength: 6 }),
        fc.subarray(['A', 'B']),
        fc.subarray(['A', 'B']),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        (raw, seenIds, exclude, genres, excludeGenres, n, offset) => {
          const lists: WeightedList[] = raw.map((l) => ({ weight: l.weight, size: l.size, movieIds: l.pairs.map((p) => p[0]), counts: l.pairs.map((p) => p[1]) }));
          const seen = new Set(seenIds);
          const filter = { genres, excludeGenres, exclude };
          const keep = (m: number) =>
            !exclude.includes(m) &&
            (genres.length === 0 || genres.some((g) => catalogue.get(m)!.genres.includes(g))) &&
            !excludeGenres.some((g) => catalogue.get(m)!.genres.includes(g));
          const all = mergeWeightedLists(lists, seen, 1000, 0);
          const want = all.filter((it) => keep(it.movieId)).slice(offset, offset + n);
          expect(mergeWeightedLists(lists, skipSet(seen, filter, catalogue), n, offset)).toEqual(want);
        },
      ),
    );
  });
});

// Three clusters by hand:
//   c0 (size 4): movie 10 ×4, 11 ×2, 12 ×1        c1 (size 2): movie 10 ×1, 13 ×2        c2 (size 0): movie 10 ×5
// P (total count over live lists): 10 → 5, 11 → 2, 12 → 1, 13 → 2 (the empty cluster counts nothing)
// est. co-occurrence with 10: 11 → 4·2/4 = 2; 12 → 4·1/4 = 1; 13 → 1·2/2 = 1
// sim(10, ·) = co / √(5·P): 11 → 2/√10 = 0.6325; 12 → 1/√5 = 0.4472; 13 → 1/√10 = 0.3162
const LISTS = [
  { id: 0, size: 4, movieIds: [10, 11, 12], counts: [4, 2, 1] },
  { id: 1, size: 2, movieIds: [13, 10], counts: [2, 1] },
  { id: 2, size: 0, movieIds: [10], counts: [5] },
];

describe('similar movies', () => {
  test('worked example: Σ c_i·c_j / s over the clusters, divided by √(P_i·P_j); scores to 4 digits', () => {
    expect(similarMovies({ clusters: LISTS }, 10, 5)).toEqual([
      { movieId: 11, score: 0.6325 },
      { movieId: 12, score: 0.4472 },
      { movieId: 13, score: 0.3162 },
    ]);
    // 11 and 12 share cluster 0 only: 2·1/4 / √(2·1) = 0.3536; 10 as above
    expect(similarMovies({ clusters: LISTS }, 12, 5)).toEqual([
      { movieId: 10, score: 0.4472 },
      { movieId: 11, score: 0.3536 },
    ]);
    expect(similarMovies({ clusters: LISTS }, 99)).toBeNull();
  });

  test('the API may ask for as many as a publish stores', () => {
    expect(MAX_SIMILAR_N).toBe(SIMILAR_MAX);
  });

  test('only the first NEIGHBOURS_PER_LIST entries of each list get or are similar movies; the movie itself never', () => {
    const len = NEIGHBOURS_PER_LIST + 5;
    const long = { id: 0, size: 10, movieIds: Array.from({ length: len }, (_, i) => i + 1), counts: Array.from({ length: len }, () => 1) };
    // the tail movie 503 is also at the top of a short list: there it counts
    const short = { id: 1, size: 3, movieIds: [NEIGHBOURS_PER_LIST + 3, 7], counts: [2, 1] };
    const got = similarMovies({ clusters: [long, short] }, 7, SIMILAR_MAX)!;
    expect(got).toHaveLength(SIMILAR_MAX);
    expect(got[0].movieId).toBe(NEIGHBOURS_PER_LIST + 3); // shares the short list with 7
    expect(got.every((it) => it.movieId !== 7 && (it.movieId <= NEIGHBOURS_PER_LIST || it.movieId === NEIGHBOURS_PER_LIST + 3))).toBe(true);
    expect(similarMovies({ clusters: [long, short] }, NEIGHBOURS_PER_LIST + 4, 5)).toBeNull(); // only in a tail
    const idx = similarIndex({ clusters: [long, short] });
    expect(idx.movieIds).toEqual([...Array.from({ length: NEIGHBOURS_PER_LIST }, (_, i) => i + 1), NEIGHBOURS_PER_LIST + 3]);
  });

  test('the stored index holds each movie’s top SIMILAR_MAX, and its first n are the one-movie answer for any n', () => {
    const { model } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
    const idx = similarIndex(model);
    expect(idx.movieIds).toEqual([100, 101, 102, 103, 104, 200, 201, 202]);
    idx.movieIds.forEach((m, i) => {
      const row = idx.neighbours.slice(idx.ptr[i], idx.ptr[i + 1]).map((id, j) => ({ movieId: id, score: idx.scores[idx.ptr[i] + j] }));
      for (const n of [1, 2, 3, 50]) expect(row.slice(0, n)).toEqual(similarMovies(model, m, n));
    });
  });

  test('property: every score is the definition, and the order is score desc then movieId asc', () => {
    // the reference sums in the scorer's order, (c_i · 1/s) · c_j list by list, and divides by √P_i · √P_j, so
    // even the last bits (and so the order of near-ties) must agree
    const arbList = fc.record({
      size: fc.integer({ min: 0, max: 8 }),
      pairs: fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 1, max: 8 })), { selector: (p) => p[0], minLength: 1, maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(arbList, { minLength: 1, maxLength: 6 }), (raw) => {
        const lists = raw.map((l, id) => ({ id, size: l.size, movieIds: l.pairs.map((p) => p[0]), counts: l.pairs.map((p) => p[1]) }));
        const live = lists.filter((l) => l.size > 0);
        const count = (l: (typeof lists)[0], m: number) => l.counts[l.movieIds.indexOf(m)] ?? 0;
        const P = (m: number) => live.reduce((a, l) => a + count(l, m), 0);
        const scorer = new SimilarScorer(lists);
        for (const i of scorer.ids) {
          // (every list here is shorter than NEIGHBOURS_PER_LIST: each movie of a live list gets a row)
          if (!live.some((l) => l.movieIds.includes(i))) {
            expect(scorer.similar(i, 100)).toBeNull();
            continue;
          }
          const got = scorer.similar(i, 100)!;
          const want = scorer.ids
            .filter((j) => j !== i)
            .map((j) => ({ j, s: live.reduce((a, l) => a + count(l, i) * (1 / l.size) * count(l, j), 0) / (Math.sqrt(P(i)) * Math.sqrt(P(j))) }))
            .filter((x) => x.s > 0)
            .sort((a, b) => b.s - a.s || a.j - b.j);
          expect(got.map((g) => g.movieId)).toEqual(want.map((w) => w.j));
          expect(got.map((g) => g.score)).toEqual(want.map((w) => Number(w.s.toPrecision(4))));
        }
      }),
    );
  });
});

describe('typical movies and reasons', () => {
  test('worked example: share · ln(share / overall share), lift > 1 only', () => {
    // 10 users; cluster 0 (4 users): A in 4, B in 2, C in 1; overall A in 4, B in 8, C in 1
    // A: 1 · ln(1 / 0.4) = 0.916; B: 0.5 · ln(0.5 / 0.8) < 0 → out; C: 0.25 · ln(0.25 / 0.1) = 0.229
    const model = {
      userIds: Array.from({ length: 10 }, (_, i) => i),
      clusters: [{ id: 0, size: 4, movieIds: [1, 2, 3], counts: [4, 2, 1] }],
      popular: { movieIds: [2, 1, 3], counts: [8, 4, 1] },
    };
    expect(typicalMovies(model)).toEqual(new Map([[0, [1, 3]]]));
    expect(becauseOf([1, 3], new Set([3, 9]))).toBe(3);
    expect(becauseOf([1, 3], new Set([9]))).toBeUndefined();
  });
});

describe('export rows', () => {
  test('one header, then each user’s recommendFor top-n as userId,rank,movieId,score, users ascending', () => {
    const model = modelOf(makeSnapshot(EXAMPLE_USERS, exampleCluster).snapshot) as ClusterModel;
    const text = [...recommendationRows(model, { n: 2, chunkUsers: 2 })].join('');
    const want = [EXPORT_HEADER];
    for (const u of model.userIds) recommendFor(model, u, { n: 2 }).items.forEach((it, r) => want.push(`${u},${r + 1},${it.movieId},${it.score}`));
    expect(text).toBe(want.join('\n') + '\n');
    // user 1 (cluster 0 = 100, 101, 102, 103, 104; has 100 101 102) → 103, 104 with one user each
    expect(text.split('\n').slice(1, 3)).toEqual(['1,1,103,1', '1,2,104,1']);
    // chunking changes nothing but how the text is cut
    expect([...recommendationRows(model, { n: 2, chunkUsers: 1000 })].join('')).toBe(text);
  });
});
