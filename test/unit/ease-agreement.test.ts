// EASE^R (offline/evaluate/ease.ts) against ../shared/eval/strong_baselines.py on two generated
// fixtures (tools/ease-crosscheck-lib.ts): "wide" (38 users × 311 TRAIN movies: the dual computation;
// its plain variant has an exact three-way NDCG tie at λ = 400, 800, 1600 that the tuple rule resolves
// to 1600) and "tall" (198 users × 60 movies: the primal). Asserted: the same split, the same
// validation grid to 4 decimals, the same (λ, half-life) per variant, byte-identical lists, and
// quality.py's five metrics of strong_baselines.py's lists to 4 decimals. Both computations are run on
// both fixtures.
//
// The reference always comes from the scripts themselves: run now when /usr/bin/python3 has numpy,
// scipy, pandas and scikit-learn (and then it must also equal the committed
// test/fixtures/eval/ease-reference.json), else the committed file is used (regenerate it with
// `node bin/run-ts.js tools/ease-crosscheck.ts`).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EaseForm,
  EaseGridPoint,
  easeRecommender,
  EvalSplit,
  readRatingsForEvaluation,
  scoreRecommendations,
  splitInteractions,
  writeRecsCsv,
  writeSplit,
} from '../../offline/evaluate';
import { METRICS, sha256 } from '../../tools/eval-crosscheck-lib';
import {
  EASE_REFERENCE_JSON,
  EaseReference,
  PyVariant,
  liveEaseReference,
  materialiseEaseFixtures,
  strongBaselinesAvailable,
} from '../../tools/ease-crosscheck-lib';

const work = mkdtempSync(join(tmpdir(), 'easeagree-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const committed: EaseReference = JSON.parse(readFileSync(EASE_REFERENCE_JSON, 'utf8'));
const live = strongBaselinesAvailable();
const reference: EaseReference = live ? liveEaseReference(join(work, 'py')) : committed;
const inputs = materialiseEaseFixtures(join(work, 'ts'));

test(`reference source: ${live ? 'strong_baselines.py run live, compared with the committed JSON' : 'committed ease-reference.json (python3 + numpy/scipy/pandas/sklearn not available)'}`, () => {
  expect(Object.keys(reference.fixtures).sort()).toEqual(['tall', 'wide']);
  if (live) {
    for (const [name, ref] of Object.entries(reference.fixtures)) {
      const old = committed.fixtures[name];
      expect({ ...ref, scored: undefined }).toEqual({ ...old, scored: undefined });
      for (const v of ['ease', 'ease_recency'] as const) {
        for (const k of METRICS) expect(ref.scored[v][k]).toBeCloseTo(old.scored[v][k], 12);
      }
    }
  }
});

describe.each(['wide', 'tall'])('fixture %s', (name) => {
  const ref = () => reference.fixtures[name];
  let split: EvalSplit;
  beforeAll(async () => {
    split = splitInteractions((await readRatingsForEvaluation(inputs[name])).interactions);
  });

  it('is the same input and split strong_baselines.py saw', () => {
    expect(sha256(inputs[name])).toBe(ref().ratings_sha256);
    writeSplit(split, join(work, 'ts', name, 'split'));
    expect(sha256(join(work, 'ts', name, 'split', 'train.csv'))).toBe(ref().train_csv_sha256);
    expect(sha256(join(work, 'ts', name, 'split', 'test.csv'))).toBe(ref().test_csv_sha256);
    // the fixture is shaped for the computation it is meant to exercise
    const fewerUsers = split.userIds.length < split.movieIds.length;
    expect(fewerUsers).toBe(name === 'wide');
  });

  describe.each(['dual', 'primal'] as const)('computed in the %s form', (form: EaseForm) => {
    it.each([
      ['ease', 'plain'],
      ['ease_recency', 'recency'],
    ] as const)('%s: same grid, same choice, byte-identical lists, same metrics', async (pyName: PyVariant, variant) => {
      const grid: EaseGridPoint[] = [];
      let chosen: EaseGridPoint | undefined;
      const recs = await easeRecommender(variant, {
        form,
        onGridPoint: (p) => grid.push(p),
        onSelected: (c) => (chosen = c),
      })(split, 10);
      // the grid is scored once per split and form; the plain variant runs first and sees it
      if (variant === 'plain') {
        expect(grid.map((p) => [p.lambda, p.halfLifeDays, Number(p.ndcg.toFixed(4))])).toEqual(
          ref().grid.map((p) => [p.lambda, p.half_life_days, p.ndcg]),
        );
      }
      const want = ref().models[pyName];
      expect([chosen!.lambda, chosen!.halfLifeDays]).toEqual([want.lambda, want.half_life_days]);
      const p = join(work, 'ts', name, `${form}_${pyName}.csv`);
      writeRecsCsv(recs, p);
      expect(sha256(p)).toBe(ref().recs_sha256[pyName]);
      const m = scoreRecommendations(recs, split);
      for (const k of METRICS) expect(m[k]).toBeCloseTo(ref().scored[pyName][k], 4);
      expect(Number(m['ndcg@10'].toFixed(4))).toBe(want['ndcg@10']);
    });
  });
});
