// Agreement with the reference scorer ../shared/eval/quality.py (EVALUATION.md: "agree with it to 4
// decimals on the same lists"), on two fixtures: the hand-worked one and a seeded synthetic one
// (~1,800 interactions after the split, ties in timestamps, duplicates, cold test movies, items with
// more than 50 neighbour candidates). See tools/eval-crosscheck-lib.ts.
//
// The reference always comes from quality.py itself, one of two ways — the test asserts in both:
//  - python3 + sklearn + pandas + quality.py present: quality.py is RUN now on the fixtures, and its
//    output must also equal the committed test/fixtures/eval/quality-reference.json (so a stale
//    committed file, or a change in quality.py, fails here instead of going unnoticed);
//  - otherwise (e.g. CI without python): the committed quality-reference.json is used — it is
//    quality.py's output, generated with `node bin/run-ts.js tools/eval-crosscheck.ts`.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EvalSplit,
  fixedLabelsEngine,
  itemKnn,
  seedRecommender,
  readRatingsForEvaluation,
  mostPopular,
  readRecsCsv,
  readSplit,
  scoreRecommendations,
  splitInteractions,
  writeRecsCsv,
  writeSplit,
} from '../../offline/evaluate';
import {
  COUNTS,
  METRICS,
  QualityReference,
  REFERENCE_JSON,
  liveQualityReference,
  materialiseFixtures,
  qualityPyAvailable,
  sha256,
  syntheticLabels,
} from '../../tools/eval-crosscheck-lib';

const work = mkdtempSync(join(tmpdir(), 'evagree-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const committed: QualityReference = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8'));
const live = qualityPyAvailable();
const reference: QualityReference = live ? liveQualityReference(join(work, 'py')) : committed;
const inputs = materialiseFixtures(join(work, 'ts'));

test(`reference source: ${live ? 'quality.py run live, compared with the committed JSON' : 'committed quality-reference.json (python3+sklearn+pandas not available)'}`, () => {
  expect(Object.keys(reference.fixtures).sort()).toEqual(['hand', 'synthetic']);
  if (live) {
    for (const [name, ref] of Object.entries(reference.fixtures)) {
      const old = committed.fixtures[name];
      const strip = (f: typeof ref) => ({ ...f, models: undefined, scored: undefined, seed_labels: undefined });
      expect(strip(ref)).toEqual(strip(old));
      expect(Object.keys(ref.seed_labels ?? {})).toEqual(Object.keys(old.seed_labels ?? {}));
      for (const [k, v] of Object.entries(ref.seed_labels ?? {})) expect(v).toBeCloseTo(old.seed_labels![k], 12);
      for (const k of [...COUNTS, ...METRICS]) {
        expect(ref.scored[k]).toBeCloseTo(old.scored[k], 12);
        expect(ref.models.pop[k]).toBeCloseTo(old.models.pop[k], 12);
        expect(ref.models.itemknn[k]).toBeCloseTo(old.models.itemknn[k], 12);
      }
    }
  }
});

describe.each(['hand', 'synthetic'])('fixture %s', (name) => {
  const ref = () => reference.fixtures[name];
  const f = inputs[name];
  const dir = join(work, 'ts', name);
  let split: EvalSplit;
  beforeAll(async () => {
    split = splitInteractions((await readRatingsForEvaluation(f.ratings)).interactions);
  });

  it('is the same input quality.py saw', () => {
    expect(sha256(f.ratings)).toBe(ref().ratings_sha256);
  });

  it('splits identically: same stats, byte-identical train.csv and test.csv', () => {
    expect(split.stats).toEqual(ref().split_stats);
    writeSplit(split, join(dir, 'split'));
    expect(sha256(join(dir, 'split', 'train.csv'))).toBe(ref().train_csv_sha256);
    expect(sha256(join(dir, 'split', 'test.csv'))).toBe(ref().test_csv_sha256);
  });

  it.each([
    ['pop', mostPopular],
    ['itemknn', itemKnn({ neighbours: 50 })],
  ] as const)('baseline %s: byte-identical lists and the same metrics', async (model, rec) => {
    const recs = await rec(split, 10);
    const p = join(dir, `recs_${model}.csv`);
    writeRecsCsv(recs, p);
    expect(sha256(p)).toBe(ref().recs_sha256[model]);
    const m = scoreRecommendations(recs, split);
    for (const k of COUNTS) expect(m[k]).toBe(ref().models[model][k]);
    for (const k of METRICS) expect(m[k]).toBeCloseTo(ref().models[model][k], 4);
  });

  it('scores the messy recs file like quality.py --score (to 4 decimals, counts exact)', () => {
    const m = scoreRecommendations(readRecsCsv(f.recs), split);
    for (const k of COUNTS) expect(m[k]).toBe(ref().scored[k]);
    for (const k of METRICS) expect(m[k]).toBeCloseTo(ref().scored[k], 4);
    // the messy file really exercises the rules it is meant to
    if (name === 'synthetic') {
      expect(m.users_missing).toBeGreaterThan(0);
      expect(m.short_lists).toBeGreaterThan(m.users_missing);
      expect(m.train_leak_recs).toBeGreaterThan(0);
      expect(m.non_train_movie_recs).toBeGreaterThan(0);
    }
  });

  it('scores the same on a split read back from train.csv/test.csv', () => {
    const back = readSplit(join(dir, 'split'));
    const m = scoreRecommendations(readRecsCsv(f.recs), back);
    for (const k of METRICS) expect(m[k]).toBeCloseTo(ref().scored[k], 4);
  });
});

test('the product seed model on fixed clusters gives quality.py --seed-labels scores (fixClusters dissolves 2 clusters)', async () => {
  const ref = reference.fixtures.synthetic.seed_labels!;
  expect(ref.clusters_deleted).toBe(2);
  const split = splitInteractions((await readRatingsForEvaluation(inputs.synthetic.ratings)).interactions);
  const engine = fixedLabelsEngine(syntheticLabels(split.userIds.length));
  const m = scoreRecommendations(await seedRecommender({ engine })(split, 10), split);
  for (const k of COUNTS) expect(m[k]).toBe(ref[k]);
  for (const k of METRICS) expect(m[k]).toBeCloseTo(ref[k], 4);
});
