// The system attacked and crashed as a hostile user and a careless operator would, measured on real processes
// (`movierec train` and `movierec local`, as a user starts them). The tests prove the behaviour (refusals,
// replay, JSON answers); this measures what tests must not assert: memory and time.
//   bombs     gzip row bombs (GiB of valid rows in about a MiB) through `movierec train` and through the local
//             stack's S3: peak RSS of the process that reads them (VmHWM), the outcome, and the stack's RSS
//             before and after (memory returns)
//   requests  N generated hostile requests (test/support/hostile-http.ts, fixed seed) against the local API
//             over raw sockets: latency, answers breaking the JSON rule, and /health afterwards
//   during    GET recommendations while the local stack trains a 2M-rating upload: latency idle and during
//   crash     kill -9 of the local stack while it trains an upload, then a restart without --fresh: seconds
//             until the interrupted upload is live
//
//   node bin/run-ts.js bench/hostile.ts [--parts bombs,requests,during,crash] [--requests 10000] [--bomb-gib 1]
//     [--during-seconds S (measure only the first S s of the 2M training)] [--no-record]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { versionIdOf } from '../functions/app/upload';
import { checkAnswer, encodeRequest, hostileRequest, sendRaw } from '../test/support/hostile-http';
import { activeModel, kill9, putObject, ready, type Running, startLocal, trainingPids, waitFor } from '../test/support/local-process';
import { ensureDataSet, SETS } from './lib/datasets';
import { describeMachine, load, machine } from './lib/machine';
import { ROOT } from './lib/root';
import { sampleRss } from './lib/rss';
import { fx, latency } from './lib/stats';

const log = (s: string) => process.stderr.write(s + '\n');
const MiB = 2 ** 20;

function args(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    parts: (get('--parts') ?? 'bombs,requests,during,crash').split(','),
    requests: Number(get('--requests') ?? 10_000),
    bombGiB: Number(get('--bomb-gib') ?? 1),
    /** stop measuring (and the stack) after this many seconds of the 2M training; 0 = until it is live */
    duringSeconds: Number(get('--during-seconds') ?? 0),
    record: !argv.includes('--no-record'),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'movierec-hostile-'));
let stackNo = 0;
function localStack(extra: string[]): { s: Running; dataDir: string } {
  const dataDir = path.join(dir, `data-${stackNo++}`);
  return { s: startLocal(['--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--fresh', '--sample-users', '200', ...extra]), dataDir };
}

function rssOf(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** `rows` repeated to `gib` GiB of text, as a multi-member gzip of 1 MiB members (gunzip reads them back to back). */
function bomb(rows: string, gib: number): Buffer {
  const member = gzipSync(Buffer.from(rows.repeat(Math.floor(MiB / rows.length))), { level: 9 });
  return Buffer.concat([gzipSync('userId,movieId\n'), ...Array.from({ length: gib * 1024 }, () => member)]);
}

async function bombs(gib: number, lines: string[]): Promise<void> {
  lines.push(`| bomb (${gib} GiB of rows) | .gz bytes | through | peak RSS MiB of the reading process | seconds | outcome | stack RSS MiB before → after |`, '|---|---|---|---|---|---|---|');
  const kinds: Array<[string, string]> = [
    ['one row repeated', '1,2\n'],
    ['two users alternating', '1,2\n2,3\n'],
  ];
  for (const [name, rows] of kinds) {
    const file = path.join(dir, `bomb-${rows.length}.csv.gz`);
    const bytes = bomb(rows, gib);
    writeFileSync(file, bytes);
    // movierec train
    log(`bomb "${name}" through movierec train …`);
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'movierec.js'), 'train', '--ratings', file, '--out', path.join(dir, 'm.json'), '--quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const rss = sampleRss(child.pid!);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const r = rss.stop();
    const cliOutcome = `exit ${code}: ${err.trim().replace(file, 'FILE').replace(/\|/g, '\\|')}`;
    lines.push(`| ${name} | ${bytes.length.toLocaleString('en-US')} | movierec train | ${r.peakMiB.toFixed(0)} | ${((performance.now() - t0) / 1000).toFixed(1)} | ${cliOutcome} | - |`);
    log(`  peak ${r.peakMiB.toFixed(0)} MiB, ${cliOutcome}`);
    // the local stack
    log(`bomb "${name}" through the local stack …`);
    const { s, dataDir } = localStack([]);
    try {
      const info = await ready(s, dataDir);
      const before = rssOf(info.pid);
      const t1 = performance.now();
      await putObject(info.s3Endpoint, info.bucket, 'uploads/bomb.csv.gz', bytes);
      const pid = await waitFor('the training process', () => trainingPids(dataDir)[0], 60_000, 5);
      const trss = sampleRss(pid);
      await waitFor('the outcome', () => (/uploads\/bomb\.csv\.gz (was refused|is live)/.test(s.out()) || / is live: .*bomb/.test(s.out()) ? true : undefined), 1_800_000, 100);
      const seconds = (performance.now() - t1) / 1000;
      await waitFor('the training process to end', () => (trainingPids(dataDir).length ? undefined : true), 60_000);
      const t = trss.stop();
      const after = rssOf(info.pid);
      const outcome = (/^uploads\/bomb\.csv\.gz was refused.*$/m.exec(s.out())?.[0] ?? s.out().split('\n').filter((l) => l.includes('bomb')).pop() ?? '').replace(/\|/g, '\\|');
      lines.push(`| ${name} | ${bytes.length.toLocaleString('en-US')} | movierec local (S3 upload) | ${t.peakMiB.toFixed(0)} (training process) | ${seconds.toFixed(1)} | ${outcome} | ${before.toFixed(0)} → ${after.toFixed(0)} |`);
      log(`  peak ${t.peakMiB.toFixed(0)} MiB, stack ${before.toFixed(0)} → ${after.toFixed(0)} MiB, ${outcome}`);
    } finally {
      await kill9(s);
    }
  }
}

async function requests(n: number, lines: string[]): Promise<void> {
  const { s, dataDir } = localStack([]);
  try {
    const info = await ready(s, dataDir);
    const port = Number(new URL(info.apiUrl).port);
    const reqs = fc.sample(hostileRequest, { numRuns: n, seed: 20261206 });
    const before = rssOf(info.pid);
    const ms: number[] = [];
    const broken: string[] = [];
    const statuses = new Map<string, number>();
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      for (let i = next++; i < reqs.length; i = next++) {
        const t = performance.now();
        const a = await sendRaw(port, encodeRequest(reqs[i], info.key));
        ms.push(performance.now() - t);
        const bad = checkAnswer(reqs[i], a);
        if (bad) broken.push(bad);
        const k = a ? `${String(a.status)[0]}xx` : 'none';
        statuses.set(k, (statuses.get(k) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const wall = (performance.now() - t0) / 1000;
    const health = await fetch(`${info.apiUrl}/health`, { headers: { 'x-api-key': info.key } });
    const l = latency(ms);
    const mix = [...statuses].sort().map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(
      '| hostile requests | concurrency | wall s | p50 ms | p99 ms | max ms | answers | answers breaking the JSON rule | /health after | stack RSS MiB before → after |',
      '|---|---|---|---|---|---|---|---|---|---|',
      `| ${n.toLocaleString('en-US')} (fast-check seed 20261206) | 8 | ${wall.toFixed(1)} | ${fx(l.p50, 1)} | ${fx(l.p99, 1)} | ${fx(l.max, 1)} | ${mix} | ${broken.length}${broken.length ? ` (first: ${broken[0].slice(0, 80).replace(/\|/g, '\\|')})` : ''} | ${health.status} ${await health.text()} | ${before.toFixed(0)} → ${rssOf(info.pid).toFixed(0)} |`,
    );
    log(lines[lines.length - 1]);
  } finally {
    await kill9(s);
  }
}

async function timedGets(apiUrl: string, key: string, until: () => boolean, max: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; ms.length < max && until(); i++) {
    const t = performance.now();
    const res = await fetch(`${apiUrl}/users/${1 + (i % 200)}/recommendations?n=10`, { headers: { 'x-api-key': key } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET recommendations: ${res.status}`);
    ms.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return ms;
}

async function during(lines: string[], capSeconds: number): Promise<void> {
  Object.assign(SETS, { '2m': { name: '2M', gen: { users: 20_000, movies: 10_000, ratings: 2_000_000, seed: 0 } } });
  const file = await ensureDataSet('2m', log);
  const { s, dataDir } = localStack([]);
  try {
    const info = await ready(s, dataDir);
    const idle = await timedGets(info.apiUrl, info.key, () => true, 500);
    const body = readFileSync(file);
    const etag = await putObject(info.s3Endpoint, info.bucket, 'uploads/2m.csv', body);
    const version = versionIdOf({ bucket: info.bucket, key: 'uploads/2m.csv', etag });
    const t0 = performance.now();
    await waitFor('the training process', () => trainingPids(dataDir)[0], 60_000, 5);
    const capped = () => capSeconds > 0 && performance.now() - t0 > capSeconds * 1000;
    const busy = await timedGets(info.apiUrl, info.key, () => trainingPids(dataDir).length > 0 && !capped(), 1_000_000);
    let what: string;
    if (capped()) {
      what = `the first ${capSeconds} s of a 2M-rating upload's training (its process; stopped there)`;
    } else {
      await waitFor('the 2M model to be live', async () => ((await activeModel(info.apiUrl, info.key))?.version === version ? true : undefined), 1_800_000, 500);
      what = `a 2M-rating upload's whole training (its process; upload → live ${((performance.now() - t0) / 1000).toFixed(0)} s)`;
    }
    const [a, b] = [latency(idle), latency(busy)];
    lines.push(
      '| GET /users/{id}/recommendations (sequential, 20 ms apart) | requests | p50 ms | p99 ms | max ms |',
      '|---|---|---|---|---|',
      `| idle stack | ${a.n} | ${fx(a.p50, 1)} | ${fx(a.p99, 1)} | ${fx(a.max, 1)} |`,
      `| during ${what} | ${b.n} | ${fx(b.p50, 1)} | ${fx(b.p99, 1)} | ${fx(b.max, 1)} |`,
    );
    log(lines.slice(-2).join('\n'));
  } finally {
    await kill9(s);
  }
}

async function crash(lines: string[]): Promise<void> {
  const file = await ensureDataSet('100k', log);
  const { s, dataDir } = localStack([]);
  let again: Running | null = null;
  try {
    let info = await ready(s, dataDir);
    const etag = await putObject(info.s3Endpoint, info.bucket, 'uploads/100k.csv', readFileSync(file));
    const version = versionIdOf({ bucket: info.bucket, key: 'uploads/100k.csv', etag });
    await waitFor('the training process', () => trainingPids(dataDir)[0], 60_000, 5);
    await new Promise((r) => setTimeout(r, 1000));
    await kill9(s);
    const t0 = performance.now();
    again = startLocal(['--port', '0', '--s3-port', '0', '--data-dir', dataDir]);
    info = await ready(again, dataDir);
    const up = (performance.now() - t0) / 1000;
    await waitFor('the interrupted upload to be live', async () => ((await activeModel(info.apiUrl, info.key))?.version === version ? true : undefined), 1_800_000, 100);
    const live = (performance.now() - t0) / 1000;
    lines.push(
      '| kill -9 while training, restart without --fresh | restart → ready s | restart → the interrupted upload live s |',
      '|---|---|---|',
      `| 100K-rating upload (1,000 users) | ${up.toFixed(1)} | ${live.toFixed(1)} |`,
    );
    log(lines[lines.length - 1]);
  } finally {
    await kill9(s);
    if (again) await kill9(again);
  }
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const m = machine();
  const startLoad = load();
  const lines: string[] = [];
  const part = async (name: string, run: () => Promise<void>) => {
    if (!a.parts.includes(name)) return;
    lines.push('');
    await run();
  };
  try {
    await part('bombs', () => bombs(a.bombGiB, lines));
    await part('requests', () => requests(a.requests, lines));
    await part('during', () => during(lines, a.duringSeconds));
    await part('crash', () => crash(lines));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const head = [
    `### Hostile run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `- command: \`node bin/run-ts.js bench/hostile.ts --parts ${a.parts.join(',')} --requests ${a.requests} --bomb-gib ${a.bombGiB}${a.duringSeconds ? ` --during-seconds ${a.duringSeconds}` : ''}\``,
    `- machine: ${describeMachine(m)}; load ${startLoad} at start, ${load()} at end (a machine shared with other agents)`,
  ];
  const text = [...head, ...lines].join('\n') + '\n';
  process.stdout.write(text);
  if (a.record) {
    const f = path.join(ROOT, 'BENCHMARKS.md');
    writeFileSync(f, readFileSync(f, 'utf8').trimEnd() + '\n\n' + text);
  }
}

main().catch((e) => {
  console.error(e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
