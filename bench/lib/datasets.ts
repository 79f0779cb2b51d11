// The generated rating sets of the benchmark, cached under .bench-data/ (regenerated deterministically
// with offline/generate.ts when absent: same options ⇒ same bytes).
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { generateRatings, GenerateOptions } from '../../offline/generate';
import { ROOT } from './root';

export const DATA_DIR = path.join(ROOT, '.bench-data');

export interface DataSet {
  name: string;
  gen: GenerateOptions;
}

/** Users × movies follow MovieLens' proportions; 25M is 160k users × 60k movies (MovieLens 25M's shape). */
export const SETS: Record<string, DataSet> = {
  '100k': { name: '100k', gen: { users: 1_000, movies: 2_000, ratings: 100_000, seed: 0 } },
  '1m': { name: '1M', gen: { users: 10_000, movies: 5_000, ratings: 1_000_000, seed: 0 } },
  '5m': { name: '5M', gen: { users: 40_000, movies: 20_000, ratings: 5_000_000, seed: 0 } },
  '25m': { name: '25M', gen: { users: 160_000, movies: 60_000, ratings: 25_000_000, seed: 0 } },
  // the distributed training's scale evidence: four times 25M's users and ratings, twice its movies
  '100m': { name: '100M', gen: { users: 640_000, movies: 120_000, ratings: 100_000_000, seed: 0 } },
};

export function dataFile(key: string): string {
  return path.join(DATA_DIR, `gen-${key}.csv`);
}

/** The CSV of a set, generated first when it is not cached yet. Returns its path. */
export async function ensureDataSet(key: string, log: (s: string) => void): Promise<string> {
  const set = SETS[key];
  if (!set) throw new Error(`unknown data set "${key}"; use one of ${Object.keys(SETS).join(', ')}`);
  const file = dataFile(key);
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(DATA_DIR, { recursive: true });
  const t = performance.now();
  log(`generating ${set.name} (${set.gen.users} users × ${set.gen.movies} movies, seed ${set.gen.seed}) into ${file}`);
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  await generateRatings(set.gen, out);
  out.end();
  await new Promise<void>((resolve, reject) => out.on('finish', resolve).on('error', reject));
  renameSync(tmp, file);
  log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return file;
}
