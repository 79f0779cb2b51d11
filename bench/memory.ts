// Memory per interaction: how much memory training really takes, measured on real processes, to set the input
// bound of every entry point (functions/core/memory.ts TRAINING_FOOTPRINT) from numbers rather than a guess.
//
// For each generated set (bench/lib/datasets.ts, cached in .bench-data/), one fresh process trains it with the
// product's default model (the taste model, as the CLI and the stages run it) while this script samples its
// RSS from /proc (VmRSS every 20 ms, and VmHWM, the kernel's peak). Two paths:
//   cli      `movierec train --ratings FILE --out model.json` (parse → train → check → JSON snapshot)
//   handler  the local stack's training process (local/train-child.ts): the Lambda handler reading the
//            object from the local S3, training, and publishing the version to DynamoDB (dynalite)
// Then a least-squares fit of peak MiB = base + a·pairs + s·min(pairs, SELECTED_PAIRS) + b·users + c·movies
// over the runs (the default model selects its settings on a hold-out up to SELECTED_PAIRS pairs), the bytes
// per pair of each run, and how TRAINING_FOOTPRINT compares with every run (it must cover them all;
// test/unit/memory-footprint.test.ts holds the recorded runs to it).
//
//   node bin/run-ts.js bench/memory.ts [--sets 1m,25m,users,movies] [--paths cli,handler] [--no-record]
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { readRatings } from '../functions/core/ratings';
import { buildMatrix } from '../functions/core/matrix';
import { MB, SELECTED_PAIRS, trainingMb, TRAINING_FOOTPRINT, type DataShape } from '../functions/core/memory';
import { ENV } from '../functions/shared/resources';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startStack } from '../local/emulators';
import { lambdaContext } from '../local/lambda-context';
import { toLambdaS3Events } from '../local/s3-events';
import { childProcessRunner } from '../local/training-runner';
import { ensureDataSet, SETS } from './lib/datasets';
import { describeMachine, load, machine } from './lib/machine';
import { ROOT } from './lib/root';
import { sampleRss } from './lib/rss';

interface Run {
  set: string;
  path: 'cli' | 'handler';
  shape: DataShape;
  fileMiB: number;
  peakMiB: number;
  sampledMiB: number;
  seconds: number;
  outcome: string;
}

const log = (s: string) => process.stderr.write(s + '\n');

function args(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    sets: (get('--sets') ?? '1m,5m,users,movies,25m').split(','),
    paths: (get('--paths') ?? 'cli,handler').split(',') as Array<'cli' | 'handler'>,
    record: !argv.includes('--no-record'),
  };
}

async function shapeOf(file: string): Promise<DataShape> {
  const { interactions } = await readRatings(file, { collapseDuplicates: true });
  const { matrix } = buildMatrix(interactions);
  return { pairs: matrix.indices.length, users: matrix.nRows, movies: matrix.nCols };
}

async function cliRun(file: string): Promise<Omit<Run, 'set' | 'shape' | 'fileMiB'>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'movierec-mem-'));
  const t0 = performance.now();
  try {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'movierec.js'), 'train', '--ratings', file, '--out', path.join(dir, 'model.json'), '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const rss = sampleRss(child.pid!);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const s = rss.stop();
    return { path: 'cli', peakMiB: s.peakMiB, sampledMiB: s.sampledMaxMiB, seconds: (performance.now() - t0) / 1000, outcome: code === 0 ? 'trained' : `exit ${code}: ${err.trim().slice(-300)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function handlerRun(file: string): Promise<Omit<Run, 'set' | 'shape' | 'fileMiB'>> {
  const stack = await startStack('mem');
  try {
    const key = `uploads/${path.basename(file)}`;
    const events: S3Event[] = [];
    stack.s3rver.on('event', (e) => events.push(...toLambdaS3Events(e)));
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: createReadStream(file), ContentLength: statSync(file).size }));
    for (let i = 0; i < 100 && !events.length; i++) await new Promise((r) => setTimeout(r, 50));
    let rss: ReturnType<typeof sampleRss> | null = null;
    let s: ReturnType<ReturnType<typeof sampleRss>['stop']> | null = null;
    const runner = childProcessRunner({
      env: {
        [ENV.stage]: 'mem',
        [ENV.usersTable]: stack.tables.users,
        [ENV.clustersTable]: stack.tables.clusters,
        [ENV.idempotencyTable]: stack.tables.idempotency,
        [ENV.bucket]: stack.bucket,
        [ENV.trainingParams]: JSON.stringify({ algorithm: 'taste', randomState: 0 }),
        [ENV.dynamoEndpoint]: stack.dynamoEndpoint,
        [ENV.s3Endpoint]: stack.s3Endpoint,
        AWS_REGION: EMULATOR_REGION,
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      niceness: 0,
      onChild: (pid) => {
        if (pid !== null) rss = sampleRss(pid);
        else s ??= rss?.stop() ?? null;
      },
    });
    const t0 = performance.now();
    let outcome: string;
    try {
      const { results } = await runner.handler(events[0], lambdaContext('mem', 3_600_000));
      outcome = results.map((r) => r.status + (r.code ? ` (${r.code})` : '')).join(', ');
    } catch (e) {
      outcome = `failed: ${(e as Error).message}`;
    }
    const seconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < 100 && !s; i++) await new Promise((r) => setTimeout(r, 50));
    const got = (s ?? (rss as ReturnType<typeof sampleRss> | null)?.stop())!;
    return { path: 'handler', peakMiB: got.peakMiB, sampledMiB: got.sampledMaxMiB, seconds, outcome };
  } finally {
    await stack.stop();
  }
}

/** Least squares for y ≈ X·β (normal equations, Gaussian elimination; a handful of unknowns). */
function fit(rows: number[][], y: number[]): number[] {
  const n = rows[0].length;
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (j < n ? rows.reduce((s, r) => s + r[i] * r[j], 0) : rows.reduce((s, r, k) => s + r[i] * y[k], 0))));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < n; r++) {
      if (r === c || a[c][c] === 0) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= n; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row, i) => (row[i] === 0 ? 0 : row[n] / row[i]));
}

const EXTRA_SETS: Record<string, { name: string; gen: { users: number; movies: number; ratings: number; seed: number } }> = {
  users: { name: 'users-heavy', gen: { users: 300_000, movies: 3_000, ratings: 3_000_000, seed: 0 } },
  movies: { name: 'movies-heavy', gen: { users: 5_000, movies: 400_000, ratings: 2_000_000, seed: 0 } },
  '10m': { name: '10M', gen: { users: 64_000, movies: 24_000, ratings: 10_000_000, seed: 0 } },
};

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  Object.assign(SETS, EXTRA_SETS);
  const m = machine();
  const startLoad = load();
  const runs: Run[] = [];
  for (const set of a.sets) {
    const file = await ensureDataSet(set, log);
    const shape = await shapeOf(file);
    const fileMiB = statSync(file).size / MB;
    for (const p of a.paths) {
      log(`${set} (${shape.pairs} pairs, ${shape.users} users, ${shape.movies} movies) via ${p} …`);
      const r = p === 'cli' ? await cliRun(file) : await handlerRun(file);
      const run = { set: SETS[set].name, shape, fileMiB, ...r };
      runs.push(run);
      log(`  peak ${r.peakMiB.toFixed(0)} MiB (sampled ${r.sampledMiB.toFixed(0)}), ${r.seconds.toFixed(1)} s, ${r.outcome}`);
    }
  }
  const ok = runs.filter((r) => r.outcome.startsWith('trained') || r.outcome.startsWith('published'));
  const beta = ok.length >= 5 ? fit(ok.map((r) => [1, r.shape.pairs, Math.min(r.shape.pairs, SELECTED_PAIRS), r.shape.users, r.shape.movies]), ok.map((r) => r.peakMiB)) : null;
  const lines: string[] = [];
  lines.push(`### Memory run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`, '');
  lines.push(`- command: \`node bin/run-ts.js bench/memory.ts --sets ${a.sets.join(',')} --paths ${a.paths.join(',')}\``);
  lines.push(`- machine: ${describeMachine(m)}; load ${startLoad} at start, ${load()} at end`, '');
  lines.push(`| set | path | pairs | users | movies | file MiB | peak RSS MiB (VmHWM) | max sampled RSS MiB | bytes per pair above ${TRAINING_FOOTPRINT.baseMb} MiB | TRAINING_FOOTPRINT estimate MiB | seconds | outcome |`);
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const per = ((r.peakMiB - TRAINING_FOOTPRINT.baseMb) * MB) / r.shape.pairs;
    lines.push(
      `| ${r.set} | ${r.path} | ${r.shape.pairs.toLocaleString('en-US')} | ${r.shape.users.toLocaleString('en-US')} | ${r.shape.movies.toLocaleString('en-US')} | ${r.fileMiB.toFixed(0)} | ${r.peakMiB.toFixed(0)} | ${r.sampledMiB.toFixed(0)} | ${per.toFixed(0)} | ${trainingMb(r.shape).toFixed(0)} | ${r.seconds.toFixed(1)} | ${r.outcome} |`,
    );
  }
  if (beta) {
    lines.push(
      '',
      `Least-squares fit over the ${ok.length} runs: peak MiB ≈ ${beta[0].toFixed(0)} + ${(beta[1] * MB).toFixed(1)} B × pairs + ${(beta[2] * MB).toFixed(1)} B × min(pairs, ${SELECTED_PAIRS}) + ${(beta[3] * MB).toFixed(1)} B × users + ${(beta[4] * MB).toFixed(1)} B × movies.`,
    );
  }
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (a.record) {
    const file = path.join(ROOT, 'BENCHMARKS.md');
    writeFileSync(file, readFileSync(file, 'utf8').trimEnd() + '\n\n' + text);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
