// Memory of the batch export (functions/app/export.ts) as the user count grows: the model is built first (it is
// in memory anyway, the training Lambda holds it), then the export streams every user's top 10 through gzip
// into a lib-storage multipart upload to s3rver, while the heap and RSS are sampled every 10 ms. What the
// export adds over the model must not grow with the users.
//
//   node --expose-gc bin/run-ts.js bench/export-memory.ts [--users 20000,80000,320000] [--no-write]
//
// Each size runs in a fresh child process (clean heap); the result table is printed and, unless --no-write,
// appended to BENCHMARKS.md under "Batch export memory".
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3ExportStore } from '../functions/adapters/s3';
import { exportRecommendations } from '../functions/app/export';
import type { ClusterModel } from '../functions/core/model';
import { mulberry32 } from '../offline/generate';
import { startStack } from '../local/emulators';
import { describeMachine, load, machine } from './lib/machine';
import { ROOT } from './lib/proc';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CLUSTERS = 80;
const LIST = 500;
const MOVIES = 20_000;
const PER_USER = 40;
const MIX = 6;

/** A taste model of the product's shape: 80 clusters of 500-movie lists, each user 40 movies and 6 clusters. */
function syntheticModel(users: number): ClusterModel {
  const r = mulberry32(7);
  const clusters = Array.from({ length: CLUSTERS }, (_, id) => {
    const ids = new Set<number>();
    while (ids.size < LIST) ids.add(1 + Math.floor(r() * MOVIES));
    const movieIds = [...ids];
    const counts = movieIds.map((_, i) => Math.max(1, Math.round(500 / (i + 1))));
    return { id, size: 500, movieIds, counts };
  });
  const userMoviePtr = [0];
  const userMovies: number[] = [];
  const mix = { ptr: [0], clusters: [] as number[], weights: [] as number[] };
  const userCluster: number[] = [];
  for (let u = 0; u < users; u++) {
    const own = new Set<number>();
    while (own.size < PER_USER) own.add(1 + Math.floor(r() * MOVIES));
    userMovies.push(...[...own].sort((a, b) => a - b));
    userMoviePtr.push(userMovies.length);
    const cs = new Set<number>();
    while (cs.size < MIX) cs.add(Math.floor(r() * CLUSTERS));
    const list = [...cs];
    userCluster.push(list[0]);
    mix.clusters.push(...list);
    mix.weights.push(...list.map(() => 1 / MIX));
    mix.ptr.push(mix.clusters.length);
  }
  return {
    userIds: Array.from({ length: users }, (_, i) => i + 1),
    userCluster,
    userMoviePtr,
    userMovies,
    clusters,
    popular: { movieIds: clusters[0].movieIds, counts: clusters[0].counts },
    mix,
  };
}

interface Row {
  users: number;
  modelHeapMiB: number;
  extraHeapMiB: number;
  extraRssMiB: number;
  seconds: number;
  rows: number;
  gzMiB: number;
}

const mib = (b: number) => b / 2 ** 20;

async function child(users: number): Promise<Row> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'movierec-export-mem-'));
  const stack = await startStack('bench', { persistDir: dir });
  try {
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const model = syntheticModel(users);
    gc();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 10);
    const records: string[] = [];
    const t = performance.now();
    const info = await exportRecommendations(
      { exports: new S3ExportStore(stack.s3, stack.bucket), store: { recordExport: async (_v, i) => void records.push(i.state) } },
      model,
      'mem',
      10,
    );
    const seconds = (performance.now() - t) / 1000;
    clearInterval(timer);
    if (info.state !== 'written') throw new Error(`export ${info.state}: ${info.message}`);
    return {
      users,
      modelHeapMiB: mib(before.heapUsed - heap0),
      extraHeapMiB: mib(peakHeap - before.heapUsed),
      extraRssMiB: mib(peakRss - before.rss),
      seconds,
      rows: info.rows!,
      gzMiB: mib(info.bytes!),
    };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--child');
  if (at >= 0) {
    process.stdout.write(JSON.stringify(await child(Number(args[at + 1]))) + '\n');
    return;
  }
  const ui = args.indexOf('--users');
  const sizes = (ui >= 0 ? args[ui + 1] : '20000,80000,320000').split(',').map(Number);
  const rows: Row[] = [];
  for (const users of sizes) {
    console.error(`exporting ${users} users…`);
    const res = spawnSync(process.execPath, ['--expose-gc', path.join(ROOT, 'bin', 'run-ts.js'), 'bench/export-memory.ts', '--child', String(users)], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (res.status !== 0) throw new Error(`child for ${users} users failed:\n${res.stderr}`);
    rows.push(JSON.parse(res.stdout.trim().split('\n').pop()!) as Row);
  }
  const f = (x: number, d = 1) => x.toFixed(d);
  const text = [
    `### Batch export memory, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `- command: \`node --expose-gc bin/run-ts.js bench/export-memory.ts --users ${sizes.join(',')}\``,
    `- machine: ${describeMachine(machine())}; load ${load()}`,
    `- model: synthetic taste model, ${CLUSTERS} clusters × ${LIST} movies, ${PER_USER} movies and ${MIX} clusters per user; top 10 per user; s3rver in the same process; 5 MiB parts, 2 in flight`,
    '',
    '| users | model heap MiB | export: extra peak heap MiB | extra peak RSS MiB | seconds | rows | gzip MiB |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.users} | ${f(r.modelHeapMiB)} | ${f(r.extraHeapMiB)} | ${f(r.extraRssMiB)} | ${f(r.seconds, 2)} | ${r.rows} | ${f(r.gzMiB, 2)} |`),
    '',
  ].join('\n');
  console.log(text);
  if (!args.includes('--no-write')) appendFileSync(path.join(ROOT, 'BENCHMARKS.md'), `\n${text}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
