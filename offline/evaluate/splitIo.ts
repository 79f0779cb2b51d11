// A split on disk, in the layout of quality.py --emit-split (train.csv, test.csv, split.json), so
// the TypeScript evaluator and quality.py can score the very same split in both directions.

import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CsrMatrix, InputError, Interactions } from '../../functions/core/types';
import { csvLines, headerColumns, intField, numField } from './csvText';
import { K, MIN_INTERACTIONS, PROTOCOL_VERSION, TEST_FRACTION } from '../../functions/core/evaluate/protocol';
import { emptyTestRows, EvalSplit, SplitStats } from '../../functions/core/evaluate/split';

const HEADER = 'userId,movieId,rating,timestamp\n';

/** pandas' float_format="%.1f" for the rating column; NaN is written as an empty field. */
function rating(v: number): string {
  return Number.isNaN(v) ? '' : v.toFixed(1);
}

/** Writes train.csv / test.csv (rows in (userId, timestamp, movieId) order, header
 * userId,movieId,rating,timestamp) and split.json ({protocol_version, k, …, source, stats}). */
export function writeSplit(split: EvalSplit, dir: string, source: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const tr = split.train;
  const train: string[] = [HEADER];
  for (let i = 0; i < tr.length; i++) {
    train.push(
      `${tr.userIds[tr.users[i]]},${tr.movieIds[tr.movies[i]]},${rating(tr.ratings ? tr.ratings[i] : NaN)},${tr.timestamps![i]}\n`,
    );
  }
  writeFileSync(join(dir, 'train.csv'), train.join(''));
  const te = split.test;
  const test: string[] = [HEADER];
  for (let r = 0; r < split.userIds.length; r++) {
    for (let p = te.indptr[r]; p < te.indptr[r + 1]; p++) {
      test.push(`${split.userIds[r]},${te.movieIds[p]},${rating(te.ratings[p])},${te.timestamps[p]}\n`);
    }
  }
  writeFileSync(join(dir, 'test.csv'), test.join(''));
  const meta = {
    protocol_version: split.protocolVersion,
    k: K,
    min_interactions: MIN_INTERACTIONS,
    test_fraction: TEST_FRACTION,
    source,
    stats: split.stats,
  };
  writeFileSync(join(dir, 'split.json'), JSON.stringify(meta, null, 2) + '\n');
}

interface Rows {
  user: number[];
  movie: number[];
  rating: number[];
  ts: number[];
}

function readRows(path: string): Rows {
  if (!existsSync(path)) {
    throw new InputError('missing_file', `${path} does not exist; a split directory needs train.csv and test.csv.`, {
      path,
    });
  }
  const lines = csvLines(readFileSync(path, 'utf8'));
  if (lines.length === 0) throw new InputError('empty_file', `${path} is empty; it needs a header line.`, { path });
  const [cu, cm, cr, ct] = headerColumns(path, lines[0].fields, ['userId', 'movieId', 'rating', 'timestamp']);
  const rows: Rows = { user: [], movie: [], rating: [], ts: [] };
  for (let i = 1; i < lines.length; i++) {
    const { line, fields } = lines[i];
    rows.user.push(intField(path, line, 'userId', fields[cu]));
    rows.movie.push(intField(path, line, 'movieId', fields[cm]));
    rows.rating.push(numField(path, line, 'rating', fields[cr]));
    rows.ts.push(intField(path, line, 'timestamp', fields[ct]));
  }
  return rows;
}

/** Reads a split written by writeSplit or quality.py --emit-split. TRAIN rows keep file order;
 * each user's TEST rows keep file order. Stats are recomputed from the rows except
 * duplicates_collapsed / users_dropped_lt5, which come from split.json when present (else 0). */
export function readSplit(dir: string): EvalSplit {
  const trainPath = join(dir, 'train.csv');
  const testPath = join(dir, 'test.csv');
  const tr = readRows(trainPath);
  const te = readRows(testPath);
  let meta: { protocol_version?: number; stats?: Partial<SplitStats> } = {};
  const metaPath = join(dir, 'split.json');
  if (existsSync(metaPath)) meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  const version = meta.protocol_version ?? PROTOCOL_VERSION;
  if (version !== PROTOCOL_VERSION) {
    throw new InputError(
      'protocol_version',
      `${metaPath} says protocol ${version} but this evaluator implements protocol ${PROTOCOL_VERSION}; re-emit the split.`,
    );
  }

  const userIds = [...new Set(tr.user)].sort((a, b) => a - b);
  const movieIds = [...new Set(tr.movie)].sort((a, b) => a - b);
  const uRow = new Map(userIds.map((u, r) => [u, r]));
  const mCol = new Map(movieIds.map((m, c) => [m, c]));
  const n = tr.user.length;
  const train: Interactions = {
    userIds,
    movieIds,
    users: Int32Array.from(tr.user, (u) => uRow.get(u)!),
    movies: Int32Array.from(tr.movie, (m) => mCol.get(m)!),
    timestamps: Float64Array.from(tr.ts),
    ratings: Float32Array.from(tr.rating),
    length: n,
  };

  // CSR (binary, duplicates collapsed)
  const perRow: number[][] = userIds.map(() => []);
  for (let i = 0; i < n; i++) perRow[train.users[i]].push(train.movies[i]);
  const indptr = new Int32Array(userIds.length + 1);
  const cols: number[] = [];
  perRow.forEach((cs, r) => {
    const uniq = [...new Set(cs)].sort((a, b) => a - b);
    cols.push(...uniq);
    indptr[r + 1] = cols.length;
  });
  const trainMatrix: CsrMatrix = {
    nRows: userIds.length,
    nCols: movieIds.length,
    indptr,
    indices: Int32Array.from(cols),
    values: null,
    rowIds: Float64Array.from(userIds),
    colIds: Float64Array.from(movieIds),
  };

  // TEST grouped by user row, file order within a user
  const testByRow: number[][] = userIds.map(() => []);
  for (let i = 0; i < te.user.length; i++) {
    const r = uRow.get(te.user[i]);
    if (r === undefined) {
      throw new InputError(
        'test_user_not_in_train',
        `${testPath}: user ${te.user[i]} has TEST rows but no TRAIN rows; protocol v1 splits never produce that, so re-emit the split.`,
      );
    }
    testByRow[r].push(i);
  }
  const nTest = te.user.length;
  const test = emptyTestRows(userIds.length, nTest);
  let e = 0;
  let cold = 0;
  testByRow.forEach((idx, r) => {
    for (const i of idx) {
      test.movieIds[e] = te.movie[i];
      test.timestamps[e] = te.ts[i];
      test.ratings[e] = te.rating[i];
      if (!mCol.has(te.movie[i])) cold++;
      e++;
    }
    test.indptr[r + 1] = e;
  });

  return {
    protocolVersion: version,
    userIds,
    movieIds,
    train,
    trainMatrix,
    test,
    stats: {
      duplicates_collapsed: meta.stats?.duplicates_collapsed ?? 0,
      users_dropped_lt5: meta.stats?.users_dropped_lt5 ?? 0,
      users: userIds.length,
      interactions: n + nTest,
      train_rows: n,
      test_rows: nTest,
      train_movies: movieIds.length,
      test_cold_rows: cold,
    },
  };
}
