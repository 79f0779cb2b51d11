// Cross-checking the TypeScript evaluator against the reference scorer ../shared/eval/quality.py.
//
// Two fixtures: the hand-worked one (test/fixtures/eval/ratings.csv + recs.csv) and a seeded
// synthetic one with skewed popularity, timestamp ties, duplicates and short users. For each,
// quality.py's split, its pop / item-kNN lists and its scores of a deliberately messy recs file
// are reduced to a JSON "reference" (file hashes + metrics). The agreement test recomputes the
// reference live when python3 + sklearn + pandas + quality.py are present, and otherwise uses the
// committed test/fixtures/eval/quality-reference.json (regenerate it with
// `node bin/run-ts.js tools/eval-crosscheck.ts`).

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../offline/generate';

export const REPO = resolve(__dirname, '..');
export const FIXTURES = join(REPO, 'test', 'fixtures', 'eval');
export const REFERENCE_JSON = join(FIXTURES, 'quality-reference.json');
export const QUALITY_PY = process.env.QUALITY_PY ?? resolve(REPO, '..', 'shared', 'eval', 'quality.py');
export const PYTHON = process.env.QUALITY_PYTHON ?? '/usr/bin/python3';

export const METRICS = ['precision@10', 'recall@10', 'ndcg@10', 'hitrate@10', 'coverage@10'] as const;
export const COUNTS = ['users', 'users_missing', 'short_lists', 'train_leak_recs', 'non_train_movie_recs'] as const;

export interface FixtureReference {
  ratings_sha256: string;
  split_stats: Record<string, number>;
  train_csv_sha256: string;
  test_csv_sha256: string;
  /** sha256 of recs_<model>.csv as written by quality.py --emit-recs */
  recs_sha256: Record<string, string>;
  models: Record<string, Record<string, number>>;
  /** quality.py --score of the fixture's messy recs file on quality.py's own split */
  scored: Record<string, number>;
  /** quality.py --seed-labels with syntheticLabels(users): the seed algorithm after K-means
   * (cluster counts, fixClusters, lists) on fixed clusters; synthetic fixture only */
  seed_labels?: Record<string, number>;
}

export interface QualityReference {
  generated_by: string;
  fixtures: Record<string, FixtureReference>;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** True when the reference scorer can run here (python3 with numpy/pandas/scipy/sklearn). */
export function qualityPyAvailable(): boolean {
  if (!existsSync(QUALITY_PY) || !existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, scipy, numpy'], { stdio: 'ignore' });
  return r.status === 0;
}

// ---------------------------------------------------------------------------------------------
// fixtures

/** ~2,500 rows: 160 users (2–60 draws each, with replacement so duplicates happen), 150 movies
 * with Zipf-like popularity plus some movies only one user saw, last (cold in TEST), timestamps from a narrow range so (timestamp, movieId) ties are
 * common, rows shuffled. */
export function syntheticRatingsCsv(seed = 7): string {
  const rnd = mulberry32(seed);
  const nMovies = 150;
  const weights = Array.from({ length: nMovies }, (_, i) => 1 / Math.pow(i + 1, 0.9));
  const total = weights.reduce((s, w) => s + w, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const w of weights) cum.push((acc += w / total));
  const movieId = (i: number) => 1 + i * 7 + (i % 3); // non-contiguous ids
  const rows: string[] = [];
  for (let u = 0; u < 160; u++) {
    const userId = 1000 - u * 3; // ids not in file order
    const n = 2 + Math.floor(rnd() * rnd() * 60);
    const base = 1_000_000 + Math.floor(rnd() * 50);
    for (let j = 0; j < n; j++) {
      const x = rnd();
      let m = cum.findIndex((c) => c >= x);
      if (m < 0) m = nMovies - 1;
      const rating = (1 + Math.floor(rnd() * 10)) / 2;
      const ts = base + Math.floor(rnd() * 12);
      rows.push(`${userId},${movieId(m)},${rating.toFixed(1)},${ts}`);
    }
    // now and then a movie only this user ever saw, last in time: TEST-only ("cold")
    if (rnd() < 0.15) rows.push(`${userId},${20_000 + u},3.0,${base + 100}`);
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return 'userId,movieId,rating,timestamp\n' + rows.join('\n') + '\n';
}

/** A recs file exercising every scoring rule: duplicates inside a list, lists longer than 10,
 * short lists, a user's own TRAIN movies, movies unknown to TRAIN, missing and extra users.
 * Built from the ratings alone (not from any split), so both sides score the same bytes. */
export function messyRecsCsv(ratingsCsv: string, seed = 11): string {
  const rnd = mulberry32(seed);
  const lines = ratingsCsv.trim().split('\n').slice(1);
  const users = [...new Set(lines.map((l) => Number(l.split(',')[0])))].sort((a, b) => a - b);
  const movies = [...new Set(lines.map((l) => Number(l.split(',')[1])))].sort((a, b) => a - b);
  const out = ['userId,rank,movieId'];
  for (const u of [...users, 5_000_001]) {
    if (rnd() < 0.1) continue; // missing user
    const len = Math.floor(rnd() * 16);
    for (let r = 1; r <= len; r++) {
      const x = rnd();
      const m = x < 0.05 ? 9_000_000 + r : movies[Math.floor(Math.pow(rnd(), 2) * movies.length)];
      out.push(`${u},${r},${m}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Writes the fixtures' input files into dir: <name>/ratings.csv and <name>/recs.csv. */
export function materialiseFixtures(dir: string): Record<string, { ratings: string; recs: string }> {
  const out: Record<string, { ratings: string; recs: string }> = {};
  const synth = syntheticRatingsCsv();
  const inputs: Record<string, { ratings: string; recs: string }> = {
    hand: {
      ratings: readFileSync(join(FIXTURES, 'ratings.csv'), 'utf8'),
      recs: readFileSync(join(FIXTURES, 'recs.csv'), 'utf8'),
    },
    synthetic: { ratings: synth, recs: messyRecsCsv(synth) },
  };
  for (const [name, files] of Object.entries(inputs)) {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'ratings.csv'), files.ratings);
    writeFileSync(join(d, 'recs.csv'), files.recs);
    out[name] = { ratings: join(d, 'ratings.csv'), recs: join(d, 'recs.csv') };
  }
  return out;
}

/** Fixed cluster labels for TRAIN user rows 0..n-1: clusters 0–3 round-robin, plus a cluster of 4
 * and one of 2 users that fixClusters (min size 6) must dissolve. */
export function syntheticLabels(nUsers: number): number[] {
  return Array.from({ length: nUsers }, (_, r) => (r % 9 === 0 && r < 36 ? 4 : r === 7 || r === 50 ? 5 : r % 4));
}

// ---------------------------------------------------------------------------------------------
// quality.py

function runPy(args: string[]): void {
  execFileSync(PYTHON, [QUALITY_PY, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function pick(o: Record<string, number>, keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

/** Runs quality.py on one fixture and reduces its outputs to a FixtureReference. */
export function qualityReference(ratings: string, recs: string, workDir: string, withSeedLabels = false): FixtureReference {
  const split = join(workDir, 'py-split');
  const recsDir = join(workDir, 'py-recs');
  const j1 = join(workDir, 'py-models.json');
  const j2 = join(workDir, 'py-scored.json');
  runPy(['--ratings', ratings, '--emit-split', split, '--models', 'pop,itemknn', '--emit-recs', recsDir, '--json', j1]);
  runPy(['--split', split, '--score', recs, '--json', j2]);
  const m = JSON.parse(readFileSync(j1, 'utf8'));
  const s = JSON.parse(readFileSync(j2, 'utf8'));
  let seedLabels: Record<string, number> | undefined;
  if (withSeedLabels) {
    const labels = join(workDir, 'labels.txt');
    writeFileSync(labels, syntheticLabels(m.split.stats.users).join('\n') + '\n');
    const j3 = join(workDir, 'py-seed.json');
    runPy(['--split', split, '--models', '', '--seed-labels', labels, '--json', j3]);
    const seed = Object.values(JSON.parse(readFileSync(j3, 'utf8')).models)[0] as Record<string, number>;
    seedLabels = pick(seed, [...COUNTS, ...METRICS, 'clusters_deleted', 'users_moved']);
  }
  return {
    ratings_sha256: sha256(ratings),
    split_stats: m.split.stats,
    train_csv_sha256: sha256(join(split, 'train.csv')),
    test_csv_sha256: sha256(join(split, 'test.csv')),
    recs_sha256: {
      pop: sha256(join(recsDir, 'recs_pop.csv')),
      itemknn: sha256(join(recsDir, 'recs_itemknn.csv')),
    },
    models: {
      pop: pick(m.models.pop, [...COUNTS, ...METRICS]),
      itemknn: pick(m.models.itemknn, [...COUNTS, ...METRICS]),
    },
    scored: pick(Object.values(s.scored)[0] as Record<string, number>, [...COUNTS, ...METRICS]),
    ...(seedLabels ? { seed_labels: seedLabels } : {}),
  };
}

export function liveQualityReference(workDir: string): QualityReference {
  const files = materialiseFixtures(workDir);
  const fixtures: Record<string, FixtureReference> = {};
  for (const [name, f] of Object.entries(files)) {
    fixtures[name] = qualityReference(f.ratings, f.recs, join(workDir, name), name === 'synthetic');
  }
  return { generated_by: `quality.py (protocol v1) via tools/eval-crosscheck.ts`, fixtures };
}
