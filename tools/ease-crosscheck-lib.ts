// Cross-checking offline/evaluate/ease.ts against the reference ../shared/eval/strong_baselines.py.
//
// Two small generated fixtures, one with fewer users than movies ("wide": ease.ts takes the dual,
// users × users inverse) and one with more ("tall": the primal, movies × movies), both with timestamps
// spread over years so the recency half-lives matter, and same-second ties so the (timestamp, movieId)
// order of the validation carve matters. For each, quality.py writes the protocol-v1 split,
// strong_baselines.py selects and ranks (its JSON, its stderr grid and its --out lists), and
// quality.py --score scores those lists; all of it is reduced to test/fixtures/eval/ease-reference.json.
// The agreement test recomputes that live when python can run both scripts, else uses the committed
// file (regenerate with `node bin/run-ts.js tools/ease-crosscheck.ts`). The same tool with --ratings
// runs the comparison on a real file (EVALUATION.md, "EASE^R baseline (TypeScript)").

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../offline/generate';
import { FIXTURES, METRICS, PYTHON, QUALITY_PY, REPO, qualityPyAvailable, sha256 } from './eval-crosscheck-lib';

export const STRONG_BASELINES_PY = process.env.STRONG_BASELINES_PY ?? resolve(REPO, '..', 'shared', 'eval', 'strong_baselines.py');
export const EASE_REFERENCE_JSON = join(FIXTURES, 'ease-reference.json');
/** strong_baselines.py's variant names → the evaluate CLI's */
export const VARIANTS = { ease: 'ease', ease_recency: 'ease-recency' } as const;
export type PyVariant = keyof typeof VARIANTS;

export interface EaseFixtureReference {
  ratings_sha256: string;
  train_csv_sha256: string;
  test_csv_sha256: string;
  /** the validation grid as strong_baselines.py prints it (NDCG@10 to 4 decimals) */
  grid: { lambda: number; half_life_days: number; ndcg: number }[];
  /** strong_baselines.py's JSON: the chosen λ / half-life and the TEST NDCG@10 (rounded to 4 decimals) */
  models: Record<PyVariant, { lambda: number; half_life_days: number; 'ndcg@10': number }>;
  /** sha256 of the lists it writes with --out (userId,rank,movieId) */
  recs_sha256: Record<PyVariant, string>;
  /** quality.py --score of those lists: all five metrics */
  scored: Record<PyVariant, Record<string, number>>;
}

export interface EaseReference {
  generated_by: string;
  fixtures: Record<string, EaseFixtureReference>;
}

/** True when both scripts can run here (python3 with numpy/pandas/scipy, and sklearn for quality.py). */
export function strongBaselinesAvailable(): boolean {
  return existsSync(STRONG_BASELINES_PY) && qualityPyAvailable();
}

/** Ratings with structure EASE^R can find: movies fall into `groups` taste groups with Zipf-like
 * popularity inside each; every user draws from one group early and drifts to another (a row's chance
 * of the second group grows with its position), plus some globally popular movies. Timestamps span
 * ~3 years (each user active for up to a year) and a third of consecutive rows share a second. */
export function easeRatingsCsv(seed: number, users: number, movies: number, maxRows: number, groups = 4): string {
  const rnd = mulberry32(seed);
  const zipf = (n: number) => {
    const w = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, 0.8));
    const total = w.reduce((s, v) => s + v, 0);
    let acc = 0;
    return w.map((v) => (acc += v / total));
  };
  const perGroup = Math.ceil(movies / groups);
  const inGroup = zipf(perGroup);
  const global = zipf(movies);
  const draw = (cum: number[]) => {
    const x = rnd();
    const i = cum.findIndex((c) => c >= x);
    return i < 0 ? cum.length - 1 : i;
  };
  const rows: string[] = [];
  for (let u = 0; u < users; u++) {
    const userId = 1 + u * 2;
    const n = 5 + Math.floor(rnd() * rnd() * (maxRows - 5));
    const early = Math.floor(rnd() * groups);
    const late = (early + 1 + Math.floor(rnd() * (groups - 1))) % groups;
    let t = 1_400_000_000 + Math.floor(rnd() * 730) * 86400;
    const span = Math.floor(1 + rnd() * 365) * 86400;
    for (let j = 0; j < n; j++) {
      let m: number;
      if (rnd() < 0.25) m = draw(global);
      else m = Math.min(movies - 1, (rnd() < j / n ? late : early) + groups * draw(inGroup));
      rows.push(`${userId},${10 + m * 3},${(1 + Math.floor(rnd() * 5)).toFixed(1)},${t}`);
      if (rnd() > 0.33) t += Math.floor((rnd() * span) / n);
    }
  }
  return 'userId,movieId,rating,timestamp\n' + rows.join('\n') + '\n';
}

/** The fixtures' ratings: wide = 40 users × up to 400 movies, tall = 220 users × 60 movies. */
export function easeFixtures(): Record<string, string> {
  return { wide: easeRatingsCsv(5, 40, 400, 120), tall: easeRatingsCsv(6, 220, 60, 30) };
}

export function materialiseEaseFixtures(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, csv] of Object.entries(easeFixtures())) {
    mkdirSync(join(dir, name), { recursive: true });
    out[name] = join(dir, name, 'ratings.csv');
    writeFileSync(out[name], csv);
  }
  return out;
}

function py(script: string, args: string[]): void {
  execFileSync(PYTHON, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs strong_baselines.py on a split directory; lists go to `${outPrefix}_<variant>.csv`, its stdout and
 * stderr to `${outPrefix}.stdout` / `.stderr`. With `reuse`, a previous run's files there are read
 * instead (the script needs about an hour on ml-latest-small on a busy 2-core machine). */
export function runStrongBaselines(splitDir: string, outPrefix: string, reuse = false): Pick<EaseFixtureReference, 'grid' | 'models'> {
  const files = [`${outPrefix}.stdout`, `${outPrefix}.stderr`, `${outPrefix}_ease.csv`, `${outPrefix}_ease_recency.csv`];
  if (!(reuse && files.every((f) => existsSync(f)))) {
    const r = spawnSync(PYTHON, [STRONG_BASELINES_PY, '--split', splitDir, '--out', outPrefix], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`strong_baselines.py failed (${r.status}): ${r.stderr}`);
    writeFileSync(files[0], r.stdout);
    writeFileSync(files[1], r.stderr);
  }
  const grid = [...readFileSync(files[1], 'utf8').matchAll(/^val lam=([\d.e+]+) hl=([\d.e+]+) ndcg=([\d.]+)$/gm)].map((m) => ({
    lambda: Number(m[1]),
    half_life_days: Number(m[2]),
    ndcg: Number(m[3]),
  }));
  return { grid, models: JSON.parse(readFileSync(files[0], 'utf8').trim().split('\n').pop()!) };
}

/** quality.py --score of the two lists on the split (all five metrics per variant). */
export function qualityScores(splitDir: string, outPrefix: string, workDir: string): Record<PyVariant, Record<string, number>> {
  const j = join(workDir, 'py-ease-scored.json');
  const files = (Object.keys(VARIANTS) as PyVariant[]).map((v) => `${outPrefix}_${v}.csv`);
  py(QUALITY_PY, ['--split', splitDir, '--score', ...files, '--json', j]);
  const scored = JSON.parse(readFileSync(j, 'utf8')).scored as Record<string, Record<string, number>>;
  const byFile = Object.values(scored);
  return Object.fromEntries(
    (Object.keys(VARIANTS) as PyVariant[]).map((v, i) => [v, Object.fromEntries([...METRICS, 'users'].map((k) => [k, byFile[i][k]]))]),
  ) as Record<PyVariant, Record<string, number>>;
}

/** quality.py's split, strong_baselines.py's selection and lists, quality.py's scores of them. */
export function easeFixtureReference(ratings: string, workDir: string): EaseFixtureReference {
  const split = join(workDir, 'py-split');
  const prefix = join(workDir, 'py-recs');
  py(QUALITY_PY, ['--ratings', ratings, '--emit-split', split, '--models', '']);
  const { grid, models } = runStrongBaselines(split, prefix);
  return {
    ratings_sha256: sha256(ratings),
    train_csv_sha256: sha256(join(split, 'train.csv')),
    test_csv_sha256: sha256(join(split, 'test.csv')),
    grid,
    models,
    recs_sha256: { ease: sha256(`${prefix}_ease.csv`), ease_recency: sha256(`${prefix}_ease_recency.csv`) },
    scored: qualityScores(split, prefix, workDir),
  };
}

export function liveEaseReference(workDir: string): EaseReference {
  const fixtures: Record<string, EaseFixtureReference> = {};
  for (const [name, ratings] of Object.entries(materialiseEaseFixtures(workDir))) {
    fixtures[name] = easeFixtureReference(ratings, join(workDir, name));
  }
  return { generated_by: 'strong_baselines.py + quality.py (protocol v1) via tools/ease-crosscheck.ts', fixtures };
}
