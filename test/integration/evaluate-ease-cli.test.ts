// `movierec evaluate --models ease,ease-recency` as a user runs it (a real process, real files): the
// table rows, the chosen settings under the table and in --json, the lists written by --emit-recs
// (byte-identical to strong_baselines.py's on the "wide" EASE fixture, see
// test/unit/ease-agreement.test.ts), and EASE staying out of the default model set.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../tools/eval-crosscheck-lib';
import { EASE_REFERENCE_JSON, EaseReference, materialiseEaseFixtures } from '../../tools/ease-crosscheck-lib';
import { runCli as run } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'movierec-ease-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ref: EaseReference = JSON.parse(readFileSync(EASE_REFERENCE_JSON, 'utf8'));

test('evaluate --models ease,ease-recency prints both rows and the chosen λ / half-life, writes lists and JSON', async () => {
  const ratings = materialiseEaseFixtures(dir).wide;
  const want = ref.fixtures.wide.models;
  const json = join(dir, 'out.json');
  const r = await run(['evaluate', '--ratings', ratings, '--models', 'ease,ease-recency', '--emit-recs', join(dir, 'recs'), '--json', json]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^ease +38 +[\\d.]+ +[\\d.]+ +${want.ease['ndcg@10'].toFixed(4)} `, 'm'));
  expect(r.stdout).toMatch(new RegExp(`^ease-recency +38 +[\\d.]+ +[\\d.]+ +${want.ease_recency['ndcg@10'].toFixed(4)} `, 'm'));
  expect(r.stdout).toMatch(new RegExp(`^ease: lambda=${want.ease.lambda}, half_life_days=0, validation_ndcg=0\\.\\d+$`, 'm'));
  expect(r.stdout).toMatch(
    new RegExp(`^ease-recency: lambda=${want.ease_recency.lambda}, half_life_days=${want.ease_recency.half_life_days}, validation_ndcg=`, 'm'),
  );
  // the validation grid is printed once (shared by both variants), 6 λ × 5 half-lives
  expect(r.stderr.match(/^ease validation: lam=\d+ hl=\d+ ndcg=0\.\d{4}$/gm)).toHaveLength(30);
  const out = JSON.parse(readFileSync(json, 'utf8'));
  expect(out.models.ease).toMatchObject({ lambda: want.ease.lambda, half_life_days: 0 });
  expect(out.models['ease-recency']).toMatchObject({ lambda: want.ease_recency.lambda, half_life_days: want.ease_recency.half_life_days });
  expect(out.models.ease['ndcg@10']).toBeCloseTo(ref.fixtures.wide.scored.ease['ndcg@10'], 4);
  expect(sha256(join(dir, 'recs', 'recs_ease.csv'))).toBe(ref.fixtures.wide.recs_sha256.ease);
  expect(sha256(join(dir, 'recs', 'recs_ease-recency.csv'))).toBe(ref.fixtures.wide.recs_sha256.ease_recency);
});

test('EASE is opt-in: the help lists it outside the default set, and an unknown model is one sentence', async () => {
  const help = await run(['evaluate', '--help']);
  expect(help.stdout + help.stderr).toMatch(/Models: pop, seed, itemknn, default, ease, ease-recency, distributed \(default: pop,seed,itemknn,default\)/);
  const bad = await run(['evaluate', '--ratings', join(dir, 'wide', 'ratings.csv'), '--models', 'ease,eas']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/Unknown model "eas"; choose from pop, seed, itemknn, default, ease, ease-recency, distributed\./);
});
