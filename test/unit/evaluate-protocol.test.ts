// Protocol v1 on a hand-worked fixture: test/fixtures/eval/ratings.csv (28 rows, shuffled).
//
// Per user, after collapsing duplicates to the earliest timestamp and sorting by (timestamp, movieId):
//   user 1 (7 rows; movie 20 at t=200 and t=50 → keeps t=50, rating 1.0): 20,10,30,40,50,90
//          n=6 → n_test = max(1, floor(1.2)) = 1 → TRAIN {10,20,30,40,50}, TEST {90}
//   user 2 (5 rows; 10 and 30 tie at t=1000, 60 and 80 tie at t=1100 → movieId breaks ties):
//          70,10,30,60,80 → n_test = 1 → TRAIN {10,30,60,70}, TEST {80}
//   user 3 (11 rows; movie 20 twice at the same t=2 → the first row in the file, rating 3.0, stays):
//          10,20,30,40,50,70,80,90,60,100 → n=10, n_test = floor(2.0) = 2 → TEST {60,100}
//   user 4 (5 rows but movie 40 twice → 4 distinct) → dropped (< 5)
// Stats: duplicates 3 (u1 20, u3 20, u4 40), dropped 1, users 3, interactions 6+5+10 = 21,
//   train 5+4+8 = 17, test 4, TRAIN movies {10,20,30,40,50,60,70,80,90} = 9,
//   cold test rows: 100 (nobody trains on it) = 1 (60 is in user 2's TRAIN, 80/90 in user 3's).
// TRAIN user counts: 10:3 30:3 20:2 40:2 50:2 70:2 60:1 80:1 90:1.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EvalSplit,
  itemKnn,
  itemNeighbours,
  readRatingsForEvaluation,
  mostPopular,
  readRecsCsv,
  formatTable,
  readSplit,
  runEvaluation,
  scoreRecommendations,
  tableRows,
  splitInteractions,
  testMoviesOf,
  testSets,
  trainSets,
  writeRecsCsv,
  writeSplit,
} from '../../offline/evaluate';
import { InputError, Interactions } from '../../functions/core/types';

const FIX = join(__dirname, '..', 'fixtures', 'eval');
const log2 = Math.log2;

async function fixtureSplit(dropUsers: number[] = []): Promise<EvalSplit> {
  const input = await readRatingsForEvaluation(join(FIX, 'ratings.csv'));
  expect(input.dropUsers).toEqual([]); // a CSV: no protocol drop
  return splitInteractions(input.interactions, { dropUsers });
}

let split: EvalSplit;
beforeAll(async () => {
  split = await fixtureSplit();
});

describe('splitInteractions (protocol v1)', () => {
  it('collapses, filters, orders and cuts as worked out by hand', () => {
    expect(split.stats).toEqual({
      duplicates_collapsed: 3,
      users_dropped_lt5: 1,
      users: 3,
      interactions: 21,
      train_rows: 17,
      test_rows: 4,
      train_movies: 9,
      test_cold_rows: 1,
    });
    expect(split.userIds).toEqual([1, 2, 3]);
    expect(split.movieIds).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const tr = trainSets(split);
    expect([...tr.get(1)!]).toEqual([10, 20, 30, 40, 50]);
    expect([...tr.get(2)!]).toEqual([10, 30, 60, 70]);
    expect([...tr.get(3)!]).toEqual([10, 20, 30, 40, 50, 70, 80, 90]);
    const te = testSets(split);
    expect([...te.get(1)!]).toEqual([90]);
    expect([...te.get(2)!]).toEqual([80]);
    expect(testMoviesOf(split, 2)).toEqual([60, 100]); // (timestamp, movieId) order
    expect(te.has(4)).toBe(false);
  });

  it('exposes TRAIN as Interactions a model can train on', () => {
    const t = split.train;
    expect(t.length).toBe(17);
    const rows = Array.from({ length: t.length }, (_, i) => [t.userIds[t.users[i]], t.movieIds[t.movies[i]], t.timestamps![i]]);
    // user 2's rows in (timestamp, movieId) order: the t=1000 tie is broken by movieId
    expect(rows.filter((r) => r[0] === 2)).toEqual([
      [2, 70, 900],
      [2, 10, 1000],
      [2, 30, 1000],
      [2, 60, 1100],
    ]);
    // user 1 movie 20 kept its earliest timestamp (50), not 200
    expect(rows.find((r) => r[0] === 1 && r[1] === 20)).toEqual([1, 20, 50]);
    expect(split.trainMatrix.indptr).toEqual(Int32Array.from([0, 5, 9, 17]));
  });

  it('writes train.csv/test.csv exactly as quality.py --emit-split (files worked out by hand)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evsplit-'));
    try {
      writeSplit(split, dir);
      expect(readFileSync(join(dir, 'train.csv'), 'utf8')).toBe(readFileSync(join(FIX, 'expected-train.csv'), 'utf8'));
      expect(readFileSync(join(dir, 'test.csv'), 'utf8')).toBe(readFileSync(join(FIX, 'expected-test.csv'), 'utf8'));
      const meta = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8'));
      expect(meta.protocol_version).toBe(1);
      expect(meta.stats).toEqual(split.stats);
      // and reads back to the same split
      const back = readSplit(dir);
      expect(back.stats).toEqual(split.stats);
      expect(back.userIds).toEqual(split.userIds);
      expect(back.movieIds).toEqual(split.movieIds);
      expect(back.trainMatrix.indices).toEqual(split.trainMatrix.indices);
      expect(Array.from(back.test.movieIds)).toEqual(Array.from(split.test.movieIds));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts max(1, floor(0.2·n)) rows: n = 5…15 → 1,1,1,1,1,2,2,2,2,2,3', () => {
    const sizes = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const users: number[] = [];
    const movies: number[] = [];
    const ts: number[] = [];
    sizes.forEach((n, u) => {
      for (let j = 0; j < n; j++) {
        users.push(u);
        movies.push(j);
        ts.push(100 - j); // reverse time: the LOWEST movie ids are the latest
      }
    });
    const data: Interactions = {
      userIds: sizes.map((_, u) => u + 1),
      movieIds: Array.from({ length: 15 }, (_, j) => j + 1),
      users: Int32Array.from(users),
      movies: Int32Array.from(movies),
      timestamps: Float64Array.from(ts),
      length: users.length,
    };
    const s = splitInteractions(data);
    expect(sizes.map((_, r) => s.test.indptr[r + 1] - s.test.indptr[r])).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3]);
    expect(testMoviesOf(s, 10)).toEqual([3, 2, 1]); // latest three of the 15-row user
    expect(s.stats.interactions).toBe(110);
  });

  it('removes user 0 from u.data files before splitting, as quality.py does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evudata-'));
    try {
      const p = join(dir, 'u.data');
      // user 0: 5 movies (would be kept if not removed); user 7: 5 movies, the last (t=5) is TEST
      const rows = [1, 2, 3, 4, 5].flatMap((m) => [`0\t${m}\t3\t${m}`, `7\t${m}\t4\t${m}`]);
      require('node:fs').writeFileSync(p, rows.join('\n') + '\n');
      const input = await readRatingsForEvaluation(p);
      expect(input.report.format).toBe('u.data');
      expect(input.dropUsers).toEqual([0]);
      const s = splitInteractions(input.interactions, { dropUsers: input.dropUsers });
      expect(s.userIds).toEqual([7]);
      expect(testMoviesOf(s, 0)).toEqual([5]);
      expect(s.stats.users_dropped_lt5).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses ratings without timestamps with a clear InputError', () => {
    const data: Interactions = {
      userIds: [1],
      movieIds: [1],
      users: Int32Array.from([0]),
      movies: Int32Array.from([0]),
      length: 1,
    };
    expect(() => splitInteractions(data)).toThrow(InputError);
    expect(() => splitInteractions({ ...data, timestamps: Float64Array.from([NaN]) })).toThrow(/row 1 .*timestamp/);
  });

  it('drops the users given in dropUsers before anything else', async () => {
    const s = await fixtureSplit([3, 4]);
    expect(s.userIds).toEqual([1, 2]);
    // user 4's duplicate and user 3's are no longer counted; movie 80 (only user 3 trained on it) is gone
    expect(s.stats.duplicates_collapsed).toBe(1);
    expect(s.stats.users_dropped_lt5).toBe(0);
    expect(s.movieIds).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });
});

describe('scoreRecommendations (protocol v1 metrics, k = 10)', () => {
  it('scores the hand-made recs.csv exactly as worked out by hand', () => {
    // recs.csv, after sorting each user's rows by rank:
    //   user 1: 90, 10, 90, 70, 999, 60 → first 10 distinct: 90,10,70,999,60 (5: short list)
    //           hit 90 at rank 1; 10 is user 1's TRAIN movie (1 leak); 999 is not a TRAIN movie
    //           P = 1/10, R = 1/1, DCG = 1/log2(2) = 1, IDCG (1 test movie) = 1 → NDCG 1, HR 1
    //   user 2: absent → empty list (missing 1, short 2): P = R = NDCG = HR = 0
    //   user 3: 100,201,…,208,60 (ranks 1–10), then 10 at rank 11 (ignored, so no leak)
    //           hits 100 (rank 1, cold but in TEST) and 60 (rank 10): P = 2/10, R = 2/2
    //           DCG = 1 + 1/log2(11), IDCG (2 test movies) = 1 + 1/log2(3) → NDCG ≈ 0.790388
    //           non-TRAIN movies: 100, 201…208 = 9
    //   users 4 and 7: not test users → ignored
    // Means over the 3 test users: P = 0.3/3 = 0.1, R = 2/3, HR = 2/3,
    //   NDCG = (1 + 0 + (1 + 1/log2 11)/(1 + 1/log2 3))/3 ≈ 0.596795
    // Coverage: TRAIN movies in the top-10s: {90,10,70,60} ∪ {60} = 4 of 9 → 4/9.
    // non_train_movie_recs = 1 (999) + 9 = 10; train_leak_recs = 1.
    const m = scoreRecommendations(readRecsCsv(join(FIX, 'recs.csv')), split);
    expect(m.users).toBe(3);
    expect(m['precision@10']).toBeCloseTo(0.1, 12);
    expect(m['recall@10']).toBeCloseTo(2 / 3, 12);
    expect(m['ndcg@10']).toBeCloseTo((1 + 0 + (1 + 1 / log2(11)) / (1 + 1 / log2(3))) / 3, 12);
    expect(m['hitrate@10']).toBeCloseTo(2 / 3, 12);
    expect(m['coverage@10']).toBeCloseTo(4 / 9, 12);
    expect(m.users_missing).toBe(1);
    expect(m.short_lists).toBe(2);
    expect(m.train_leak_recs).toBe(1);
    expect(m.non_train_movie_recs).toBe(10);
  });

  it('takes only the first k distinct movies for a smaller k', () => {
    // k = 2: user 1 → 90,10 (hit at 1, leak 10); user 3 → 100,201 (hit at 1); user 2 empty.
    // P = (1/2 + 0 + 1/2)/3 = 1/3; R = (1 + 0 + 1/2)/3 = 1/2
    // NDCG: user 1 IDCG = 1 → 1; user 3 IDCG = 1 + 1/log2 3 → 1/(1 + 1/log2 3); mean over 3
    // coverage: {90, 10} of 9
    const m = scoreRecommendations(readRecsCsv(join(FIX, 'recs.csv')), split, 2);
    expect(m['precision@2']).toBeCloseTo(1 / 3, 12);
    expect(m['recall@2']).toBeCloseTo(1 / 2, 12);
    expect(m['ndcg@2']).toBeCloseTo((1 + 1 / (1 + 1 / log2(3))) / 3, 12);
    expect(m['coverage@2']).toBeCloseTo(2 / 9, 12);
    expect(m.short_lists).toBe(1);
    expect(m.train_leak_recs).toBe(1);
    expect(() => scoreRecommendations(new Map(), split, 0)).toThrow(InputError);
  });
});

describe('baselines on the hand fixture', () => {
  it('mostPopular: counts desc, movieId asc, minus seen', async () => {
    // order 10,30,20,40,50,70,60,80,90
    //   user 1 (seen 10,20,30,40,50) → 70,60,80,90 — TEST 90 at rank 4
    //   user 2 (seen 10,30,60,70)    → 20,40,50,80,90 — TEST 80 at rank 4
    //   user 3 (seen all but 60)     → 60 — TEST {60,100}, hit at rank 1
    const recs = await mostPopular(split, 10);
    expect(Object.fromEntries(recs)).toEqual({ 1: [70, 60, 80, 90], 2: [20, 40, 50, 80, 90], 3: [60] });
    const m = scoreRecommendations(recs, split);
    // P = 0.1 each; R = (1 + 1 + 1/2)/3 = 5/6; HR = 1; coverage {70,60,80,90,20,40,50} = 7/9
    // NDCG = (1/log2 5 + 1/log2 5 + 1/(1 + 1/log2 3))/3
    expect(m['precision@10']).toBeCloseTo(0.1, 12);
    expect(m['recall@10']).toBeCloseTo(5 / 6, 12);
    expect(m['ndcg@10']).toBeCloseTo((2 / log2(5) + 1 / (1 + 1 / log2(3))) / 3, 12);
    expect(m['hitrate@10']).toBeCloseTo(1, 12);
    expect(m['coverage@10']).toBeCloseTo(7 / 9, 12);
  });

  it('itemKnn: cosine on binary TRAIN vectors (users 1,2,3), sums over the user’s items', async () => {
    // item vectors over (u1,u2,u3): 10,30 = 111; 20,40,50 = 101; 70 = 011; 60 = 010; 80,90 = 001
    // user 1 (10,20,30,40,50): 80 = 90 = 2/√3 + 3/√2 ≈ 3.276; 70 = 2·2/√6 + 3·1/2 ≈ 3.133;
    //   60 = 2/√3 ≈ 1.155 → 80, 90 (tie → movieId asc), 70, 60
    // user 2 (10,30,60,70): 20 = 40 = 50 = 2·2/√6 + 1/2 ≈ 2.133; 80 = 90 = 2/√3 + 1/√2 ≈ 1.862
    // user 3: only 60 unseen: 2/√3 + 1/√2 > 0
    const recs = await itemKnn()(split, 10);
    expect(Object.fromEntries(recs)).toEqual({ 1: [80, 90, 70, 60], 2: [20, 40, 50, 80, 90], 3: [60] });
    // NDCG: user 1 hit 90 at rank 2 → 1/log2 3; user 2 hit 80 at rank 4 → 1/log2 5; user 3 as pop
    const m = scoreRecommendations(recs, split);
    expect(m['ndcg@10']).toBeCloseTo((1 / log2(3) + 1 / log2(5) + 1 / (1 + 1 / log2(3))) / 3, 12);
  });

  it('itemNeighbours keeps the top n by similarity, ties by movieId', () => {
    // item 10: 30 → 3/√9 = 1; 20,40,50,70 → 2/√6 ≈ 0.816; 60,80,90 → 1/√3
    const g = itemNeighbours(split, 2);
    const col = (m: number) => split.movieIds.indexOf(m);
    const i = col(10);
    const nb = Array.from(g.indices.subarray(g.indptr[i], g.indptr[i + 1]), (c) => split.movieIds[c]);
    expect(nb).toEqual([30, 20]);
    expect(g.values[g.indptr[i]]).toBeCloseTo(1, 15);
    expect(g.values[g.indptr[i] + 1]).toBeCloseTo(2 / Math.sqrt(6), 15);
    // item 60 (user 2 only) has neighbours 10, 30 (1/√3) and 70 (1/√2): top 2 = 70, 10
    const j = col(60);
    expect(Array.from(g.indices.subarray(g.indptr[j], g.indptr[j + 1]), (c) => split.movieIds[c])).toEqual([70, 10]);
  });
});

describe('recs CSV files', () => {
  it('round-trips lists and rejects a malformed line with its line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evrecs-'));
    try {
      const p = join(dir, 'r.csv');
      writeRecsCsv(
        new Map([
          [5, [3, 1]],
          [2, [7]],
        ]),
        p,
      );
      expect(readFileSync(p, 'utf8')).toBe('userId,rank,movieId\n2,1,7\n5,1,3\n5,2,1\n');
      expect(readRecsCsv(p)).toEqual(
        new Map([
          [2, [7]],
          [5, [3, 1]],
        ]),
      );
      require('node:fs').writeFileSync(p, 'userId,rank,movieId\n1,1,5\n1,x,6\n');
      expect(() => readRecsCsv(p)).toThrow(/line 3 has rank "x"/);
      require('node:fs').writeFileSync(p, 'user,rank,movieId\n');
      expect(() => readRecsCsv(p)).toThrow(InputError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runEvaluation and the table', () => {
  it('runs recommenders in order and prints quality.py\'s layout', async () => {
    const seen: string[] = [];
    const runs = await runEvaluation(
      split,
      [
        ['pop', mostPopular],
        ['itemknn', itemKnn()],
      ],
      { onResult: (r) => seen.push(r.name) },
    );
    expect(seen).toEqual(['pop', 'itemknn']);
    expect(runs[0].metrics).toEqual(scoreRecommendations(runs[0].recs, split));
    const rows = tableRows(runs).map((r) => ({ ...r, secs: 0 }));
    // the lines quality.py prints for this fixture (pop NDCG (2/log2 5 + 1/(1+1/log2 3))/3 = 0.4915,
    // item-kNN (1/log2 3 + 1/log2 5 + 1/(1+1/log2 3))/3 = 0.5583)
    expect(formatTable(rows).split('\n')).toEqual([
      'model                           users     P@10     R@10  NDCG@10    HR@10   Cov@10     sec',
      '------------------------------------------------------------------------------------------',
      'pop                                 3   0.1000   0.8333   0.4915   1.0000   0.7778    0.00',
      'itemknn                             3   0.1000   0.8333   0.5583   1.0000   0.7778    0.00',
    ]);
  });
});
