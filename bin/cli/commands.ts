// The CLI commands: train, recommend, inspect, generate, elbow.
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { elbow, ELBOW_DEFAULTS, elbowSvg, elbowTable } from '../../offline/elbow';
import { generateRatings } from '../../offline/generate';
import { buildMatrix, fillReport, movieCounts, window as matrixWindow } from '../../functions/core/matrix';
import { userIndex } from '../../functions/core/model';
import { recommendationRows } from '../../functions/core/export-rows';
import { fromSnapshot, SEED_PARAMS, TrainingParams } from '../../functions/core/snapshot';
import { recommendFor } from '../../functions/core/recommender';
import { readRatings } from '../../functions/core/ratings';
import { loadEngine, trainModel, TrainOverrides } from '../../functions/core/train';
import { DataReport, InputError, RatingsFormat } from '../../functions/core/types';
import { cliTrainingBudget, machineMemoryMb } from '../../local/memory';
import { jsonChunks } from './json-stream';
import { trainProgress } from './progress';
import {
  assertReadable,
  fmtInt,
  fmtSeconds,
  intOpt,
  parse,
  readJsonFile,
  requireOpt,
  writeChunksAtomic,
  writeFileAtomic,
  writeLinesAtomic,
} from './util';

const FORMATS = ['auto', 'csv', 'u.data', 'dat'] as const;

function formatOpt(v: string | undefined): 'auto' | RatingsFormat {
  const f = (v ?? 'auto') as (typeof FORMATS)[number];
  if (!FORMATS.includes(f)) throw new InputError('bad_arg', `--format must be one of ${FORMATS.join(', ')}, got "${v}".`);
  return f;
}

function shareOpt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InputError('bad_arg', `--max-rejected must be a share between 0 and 1, got "${v}".`);
  return n;
}

export const HELP: Record<string, string> = {
  train: `movierec train --ratings FILE --out model.json [options]
  Cluster users with K-means and write the model snapshot (JSON).
  --algorithm taste|seed         taste (default): CL-EASE — spherical K-means ensembles with soft membership
                                 and one local EASE matrix per cluster list, settings (k included) chosen on a
                                 hold-out of the training data; seed: the seed project's algorithm exactly
  --format auto|csv|u.data|dat   input format (default: detected from content; gzip is detected too)
  --k --n-init --max-iter --random-state --min-cluster-size
                                 seed defaults: k 15, n-init 10, max-iter 300, random-state 0, min-cluster-size 6;
                                 (--random-state is K-means' numpy RandomState seed; --seed is accepted too)
                                 taste: k selected from 20–120 unless --k is given, n-init 2
  --skip-check                   skip the hold-out comparison with most-popular
  --allow-below-popular          write the model even if it scores below most-popular on its hold-out
  --engine default|ml-kmeans     clustering engine (ml-kmeans: the slow reference, small data only)
  --assignments-out FILE         also write userId,cluster
  --max-rejected 0.01            refuse the file when more than this share of rows is malformed
  --memory MB                    memory training may plan with (default: what this machine has free); a file
                                 whose distinct (user, movie) pairs, users and movies need more is refused early,
                                 naming what it needs (duplicate rows cost nothing)
  --threads N                    worker threads (default: all cores)
  --shards N                     N ≥ 2: train as the AWS state machine does, N partitions (the definition
                                 synthesized from the stack, run offline against S3 and DynamoDB emulators;
                                 the same model file); 1 (default): in this process
  --processes N                  with --shards: run the workers in N separate processes
  --quiet                        no progress output`,
  recommend: `movierec recommend --model model.json (--user ID | --all --out recs.csv[.gz]) [--n 10] [--offset 0]
  --user ID      JSON recommendations for one user (unknown users get the most popular movies)
  --all          userId,rank,movieId,score for every user of the model, never a user's own movies: the format
                 (and, for the same model, the rows) of the batch export a publish writes to
                 exports/<version>/recommendations.csv.gz; gzipped when --out ends in .gz`,
  inspect: `movierec inspect --ratings FILE [--users 10] [--movies 10] [--format auto]
  The data-quality report and a window of the user × movie matrix (the seed's showSparseMatrix):
  the first users by id across the most popular movies.`,
  generate: `movierec generate --users N --movies M --ratings R [--clusters 8] [--seed 0] --out FILE(.gz)
  Deterministic synthetic MovieLens CSV with planted taste clusters (same arguments ⇒ same bytes).`,
  elbow: `movierec elbow --ratings FILE [--from 2] [--to 20] [--n-init 10] [--random-state 0] [--out elbow.svg]
  Inertia (WCSS) for each k and its consecutive differences, as a table and an SVG chart (y axis from 0).
  Defaults are the seed's elbow: k-means++ with n_init 10, random_state 0, max_iter 300.`,
};

/** K-means' numpy RandomState seed: --random-state (scikit-learn's name), or --seed as before. */
function randomStateOpt(a: { 'random-state'?: string; seed?: string }, fallback: number | undefined): number | undefined {
  if (a['random-state'] !== undefined && a.seed !== undefined) {
    throw new InputError('bad_arg', '--random-state and --seed are the same setting; give one of them.');
  }
  const raw = a['random-state'] ?? a.seed;
  const flag = a['random-state'] !== undefined ? '--random-state' : '--seed';
  return raw === undefined ? fallback : intOpt(raw, flag, 0, 0, 0xffffffff);
}

export async function trainCommand(argv: string[]): Promise<void> {
  const a = parse('train', argv, {
    ratings: { type: 'string' },
    format: { type: 'string' },
    k: { type: 'string' },
    'n-init': { type: 'string' },
    'max-iter': { type: 'string' },
    'random-state': { type: 'string' },
    seed: { type: 'string' },
    'min-cluster-size': { type: 'string' },
    engine: { type: 'string' },
    algorithm: { type: 'string' },
    'skip-check': { type: 'boolean' },
    'allow-below-popular': { type: 'boolean' },
    out: { type: 'string' },
    'assignments-out': { type: 'string' },
    'max-rejected': { type: 'string' },
    threads: { type: 'string' },
    shards: { type: 'string' },
    processes: { type: 'string' },
    memory: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  const ratings = requireOpt(a.ratings, '--ratings FILE', 'train');
  const memory = cliTrainingBudget(intOpt(a.memory, '--memory', machineMemoryMb(), 64, 1_048_576), a.memory !== undefined);
  const out = requireOpt(a.out, '--out model.json', 'train');
  await assertReadable(ratings, 'ratings file');
  const engine = (a.engine ?? 'default') as TrainingParams['engine'];
  if (engine !== 'default' && engine !== 'ml-kmeans') {
    throw new InputError('bad_arg', `--engine must be "default" or "ml-kmeans", got "${a.engine}".`);
  }
  const algorithm = (a.algorithm ?? 'taste') as TrainOverrides['algorithm'];
  if (algorithm !== 'seed' && algorithm !== 'taste') {
    throw new InputError('bad_arg', `--algorithm must be "taste" (the default model) or "seed" (the seed project's algorithm), got "${a.algorithm}".`);
  }
  // only what the user set: the algorithm supplies the rest (a taste k given here disables k selection)
  const params: TrainOverrides = {
    algorithm,
    k: a.k === undefined ? undefined : intOpt(a.k, '--k', SEED_PARAMS.k, 1),
    nInit: a['n-init'] === undefined ? undefined : intOpt(a['n-init'], '--n-init', SEED_PARAMS.nInit, 1),
    maxIter: a['max-iter'] === undefined ? undefined : intOpt(a['max-iter'], '--max-iter', SEED_PARAMS.maxIter, 1),
    randomState: randomStateOpt(a, undefined),
    minClusterSize:
      a['min-cluster-size'] === undefined ? undefined : intOpt(a['min-cluster-size'], '--min-cluster-size', SEED_PARAMS.minClusterSize, 0),
    engine,
  };
  const started = performance.now();
  const shards = a.shards === undefined ? 1 : intOpt(a.shards, '--shards', 1, 1, 1000);
  if (shards >= 2 && engine !== 'default') throw new InputError('bad_arg', '--shards needs the default engine (the distributed training runs its kernels).');
  if (a.processes !== undefined && shards < 2) throw new InputError('bad_arg', '--processes needs --shards 2 or more.');
  const progress = trainProgress(!a.quiet && shards < 2);
  let result;
  try {
    result =
      shards >= 2
        ? await (await import('../../local/train-distributed')).trainDistributed(ratings, params, {
            shards,
            processes: a.processes === undefined ? undefined : intOpt(a.processes, '--processes', 1, 1, 64),
            format: formatOpt(a.format),
            maxRejectedShare: shareOpt(a['max-rejected']),
            threads: a.threads === undefined ? undefined : intOpt(a.threads, '--threads', 1, 1, 64),
            check: !a['skip-check'],
            allowBelowPopular: a['allow-below-popular'],
            quiet: a.quiet,
          })
        : await trainModel(ratings, params, {
      format: formatOpt(a.format),
      maxRejectedShare: shareOpt(a['max-rejected']),
      sourceName: ratings,
      threads: a.threads === undefined ? undefined : intOpt(a.threads, '--threads', 1, 1, 64),
      check: !a['skip-check'],
            allowBelowPopular: a['allow-below-popular'],
            memory,
            onProgress: progress.onProgress,
          });
  } finally {
    progress.stop();
  }
  const { snapshot, model } = result;
  if (!a.quiet) process.stderr.write('write…\n');
  const t0 = performance.now();
  // the matrix is the model's input, no longer needed: let it go before the model's text is built
  (result as { matrix?: unknown }).matrix = undefined;
  // streamed: the 25M-rating model is a 155 MB text, which as one string (and its Buffer) was the peak memory
  await writeChunksAtomic(out, jsonChunks(snapshot), false);
  if (a['assignments-out']) {
    const lines = function* () {
      yield 'userId,cluster';
      for (let i = 0; i < model.userIds.length; i++) yield `${model.userIds[i]},${model.userCluster[i]}`;
    };
    await writeLinesAtomic(a['assignments-out'], lines());
  }
  snapshot.training.seconds.write = (performance.now() - t0) / 1000;
  const total = (performance.now() - started) / 1000;
  printTrainSummary(snapshot.data, snapshot, total, out);
}

function printTrainSummary(
  data: DataReport,
  s: Awaited<ReturnType<typeof trainModel>>['snapshot'],
  total: number,
  out: string,
): void {
  const t = s.training;
  const sizes = s.clusters.map((c) => c.size).sort((x, y) => y - x);
  const before = Object.values(t.fix.sizesBefore).sort((x, y) => y - x);
  const lines = [
    `users ${fmtInt(data.users ?? 0)} · movies ${fmtInt(data.movies ?? 0)} · interactions ${fmtInt(data.interactions ?? 0)}` +
      ` · rows read ${fmtInt(data.rowsRead)} · rejected ${fmtInt(data.rowsRejected)} · duplicates collapsed ${fmtInt(data.duplicatesCollapsed ?? 0)}`,
    `algorithm ${(s.params as { algorithm?: string }).algorithm ?? 'seed'} · k-means: k=${s.params.k} n_init=${s.params.nInit} random_state=${s.params.randomState} · ` +
      `best inertia ${t.inertia.toFixed(1)} after ${t.iterations} iterations`,
    ...(t.taste ? [`taste: ${JSON.stringify({ ...t.taste, selection: undefined })}`] : []),
    ...(t.holdout ? [`hold-out check: ${(t.holdout as { reason?: string }).reason ?? JSON.stringify(t.holdout)}`] : []),
    `cluster sizes before fix: ${before.join(' ')}`,
    `after fixClusters (min size ${s.params.minClusterSize}): ${sizes.length} clusters: ${sizes.join(' ')}` +
      ` (${t.fix.dissolved.length} dissolved, ${t.fix.moves.length} users moved)`,
    ...(t.notes ?? []).map((n) => `note: ${n}`),
    `seconds: ${Object.entries(t.seconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(' · ')} · total ${fmtSeconds(total)}`,
    `model written to ${out}`,
  ];
  console.log(lines.join('\n'));
}

export async function recommendCommand(argv: string[]): Promise<void> {
  const a = parse('recommend', argv, {
    model: { type: 'string' },
    user: { type: 'string' },
    all: { type: 'boolean' },
    n: { type: 'string' },
    offset: { type: 'string' },
    out: { type: 'string' },
  });
  const path = requireOpt(a.model, '--model model.json', 'recommend');
  const { model, snapshot } = fromSnapshot(await readJsonFile(path, 'model file'), path);
  const n = intOpt(a.n, '--n', 10, 1, 100_000);
  const offset = intOpt(a.offset, '--offset', 0, 0);
  if (a.all) {
    const out = requireOpt(a.out, '--out recs.csv (with --all)', 'recommend');
    await writeChunksAtomic(out, recommendationRows(model, { n, offset }), out.endsWith('.gz'));
    console.error(`wrote top-${n} lists of ${fmtInt(model.userIds.length)} users to ${out}`);
    return;
  }
  const userArg = requireOpt(a.user, '--user ID (or --all)', 'recommend');
  const userId = intOpt(userArg, '--user', 0, 0);
  const r = recommendFor(model, userId, { n, offset });
  const known = userIndex(model, userId) >= 0;
  console.log(
    JSON.stringify(
      {
        userId,
        modelCreatedAt: snapshot.createdAt,
        source: r.source,
        cluster: r.cluster,
        ...(known ? {} : { note: `user ${userId} is not in the model: most popular movies instead` }),
        items: r.items.map((it) => ({
          movieId: it.movieId,
          score: it.score,
          reason:
            r.source === 'popular'
              ? `${it.score} users have it`
              : snapshot.users.mix
                ? 'popular with users of similar taste'
                : `${it.score} users in cluster ${r.cluster} have it`,
        })),
      },
      null,
      2,
    ),
  );
}

export async function inspectCommand(argv: string[]): Promise<void> {
  const a = parse('inspect', argv, {
    ratings: { type: 'string' },
    format: { type: 'string' },
    users: { type: 'string' },
    movies: { type: 'string' },
    'max-rejected': { type: 'string' },
  });
  const ratings = requireOpt(a.ratings, '--ratings FILE', 'inspect');
  await assertReadable(ratings, 'ratings file');
  const { interactions, report } = await readRatings(ratings, {
    format: formatOpt(a.format),
    maxRejectedShare: shareOpt(a['max-rejected']),
    sourceName: ratings,
  });
  const { matrix, duplicatesCollapsed } = buildMatrix(interactions);
  fillReport(report, matrix, duplicatesCollapsed);
  console.log('data-quality report');
  console.log(JSON.stringify(report, null, 2));
  const nu = intOpt(a.users, '--users', 10, 1, 1000);
  const nm = intOpt(a.movies, '--movies', 10, 1, 200);
  // first users by id × the most popular movies (ids ascending), so the window shows real entries
  const counts = movieCounts(matrix);
  const top = Array.from(counts.keys())
    .sort((x, y) => counts[y] - counts[x] || x - y)
    .slice(0, nm)
    .sort((x, y) => x - y)
    .map((c) => matrix.colIds[c]);
  const w = matrixWindow(matrix, nu, top);
  const colWidth = Math.max(...w.movieIds.map((m) => String(m).length), 1);
  const head = 'user \\ movie'.padEnd(12) + w.movieIds.map((m) => String(m).padStart(colWidth + 1)).join('');
  console.log(`\nuser × movie matrix: first ${w.userIds.length} users × the ${w.movieIds.length} most popular movies (1 = has it)`);
  console.log(head);
  w.rows.forEach((row, i) => {
    console.log(String(w.userIds[i]).padEnd(12) + row.map((v) => String(v).padStart(colWidth + 1)).join(''));
  });
}

export async function generateCommand(argv: string[]): Promise<void> {
  const a = parse('generate', argv, {
    users: { type: 'string' },
    movies: { type: 'string' },
    ratings: { type: 'string' },
    clusters: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  const out = requireOpt(a.out, '--out FILE', 'generate');
  const opts = {
    users: intOpt(requireOpt(a.users, '--users N', 'generate'), '--users', 0, 1),
    movies: intOpt(requireOpt(a.movies, '--movies M', 'generate'), '--movies', 0, 5),
    ratings: intOpt(requireOpt(a.ratings, '--ratings R', 'generate'), '--ratings', 0, 1),
    clusters: intOpt(a.clusters, '--clusters', 8, 1),
    seed: intOpt(a.seed, '--seed', 0, 0),
  };
  const t = performance.now();
  const tmp = `${out}.tmp-${process.pid}`;
  const file = createWriteStream(tmp);
  if (out.endsWith('.gz')) {
    const pass = new PassThrough();
    const done = pipeline(pass, createGzip(), file);
    await generateRatings(opts, pass);
    pass.end();
    await done;
  } else {
    await generateRatings(opts, file);
    file.end();
    await new Promise<void>((resolve, reject) => {
      file.on('finish', resolve);
      file.on('error', reject);
    });
  }
  const { rename } = await import('node:fs/promises');
  await rename(tmp, out);
  console.error(`wrote ${out} (${fmtInt(opts.ratings)} ratings requested, ${fmtSeconds((performance.now() - t) / 1000)})`);
}

export async function elbowCommand(argv: string[]): Promise<void> {
  const a = parse('elbow', argv, {
    ratings: { type: 'string' },
    format: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'n-init': { type: 'string' },
    'random-state': { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string' },
    out: { type: 'string' },
  });
  const ratings = requireOpt(a.ratings, '--ratings FILE', 'elbow');
  await assertReadable(ratings, 'ratings file');
  const from = intOpt(a.from, '--from', 2, 1);
  const to = intOpt(a.to, '--to', 20, from);
  const { interactions } = await readRatings(ratings, { format: formatOpt(a.format), sourceName: ratings });
  const { matrix } = buildMatrix(interactions);
  if (to > matrix.nRows) throw new InputError('bad_arg', `--to ${to} exceeds the ${matrix.nRows} users in ${ratings}.`);
  const engine = await loadEngine((a.engine ?? 'default') as TrainingParams['engine']);
  const nInit = intOpt(a['n-init'], '--n-init', ELBOW_DEFAULTS.nInit, 1);
  const randomState = randomStateOpt(a, ELBOW_DEFAULTS.randomState)!;
  console.error(`elbow: k ${from}–${to}, n_init ${nInit}, random_state ${randomState}, max_iter ${ELBOW_DEFAULTS.maxIter}`);
  const rows = await elbow(matrix, { from, to, nInit, randomState, onK: (k: number) => console.error(`k=${k}…`) }, engine);
  console.log(elbowTable(rows));
  if (a.out) {
    await writeFileAtomic(a.out, await elbowSvg(rows));
    console.error(`chart written to ${a.out}`);
  }
}
