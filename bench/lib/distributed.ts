// `npm run bench -- --distributed 25m:8,100m:32`: training past one function, measured. The training state
// machine's definition (synthesized from the stack) runs under the offline executor against s3rver and
// dynalite, its Task states bound to the real handlers running in separate worker processes — each a warm
// "Lambda container" whose peak resident memory is measured per invocation (VmHWM, reset before each).
// Reported per run: wall time and time per workflow phase, and per step the invocations, the largest peak
// RSS of one invocation (a 3,008 MB function must hold it), the seconds per invocation and the bytes each
// step moved through S3. The product default (the taste model) trains, checks and publishes.
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { executionInput } from '../../functions/app/distributed/route';
import { sourceOrderOf, versionIdOf } from '../../functions/app/upload';
import { DynamoTrainingStatus } from '../../functions/adapters/dynamo/training';
import { makeDocClient } from '../../functions/adapters/aws';
import { ENV, executionNameOf } from '../../functions/shared/resources';
import { functionEnv, startStack } from '../../local/emulators';
import { trainingMachine } from '../../local/training-machine';
import { type StepStats, WorkerPool } from '../../local/worker-pool';
import { DATA_DIR, ensureDataSet, SETS } from './datasets';
import { ROOT } from './root';

export interface DistributedRun {
  set: string;
  ratings: number;
  users: number;
  movies: number;
  bytes: number;
  partitions: number;
  processes: number;
  status: string;
  wallSeconds: number;
  /** seconds per workflow phase (top-level states, in order of first entry) */
  phases: Array<[string, number]>;
  steps: Array<[string, StepStats]>;
  error?: string;
}

/** Which top-level states make up each phase of the report. */
const PHASES: Array<[string, RegExp]> = [
  ['plan', /^(Plan|Planned|Skip\?)$/],
  ['parse + index', /^(ParseRanges|BuildIndex)$/],
  ['shards', /^BuildShards$/],
  ['prepare + selection', /^(Prepare|Select\??)$/],
  ['k-means++', /^(SeedStart|TrySeeds|PickSeed|Seeded\?)$/],
  ['Lloyd (large data: the one assignment pass)', /^(Seeded centrally\?|Assign|FinalPass\?|UpdateCentres|Converge|Converged\?|FinishRestart|NextRestart\?)$/],
  ['counts + fixClusters + memberships', /^(CountClusters|FixClusters|Memberships\?|PlaceUsers)$/],
  ['hold-out check', /^(Check|Publish\?)$/],
  ['publish', /^(PublishStart|Started\?|PublishUsers|Flip|Done)$/],
];

export async function benchDistributed(runs: Array<{ set: string; shards: number }>, opts: { processes: number; log: (s: string) => void }): Promise<DistributedRun[]> {
  const out: DistributedRun[] = [];
  for (const { set, shards } of runs) out.push(await runOne(set, shards, opts));
  return out;
}

async function runOne(set: string, shards: number, opts: { processes: number; log: (s: string) => void }): Promise<DistributedRun> {
  const { log } = opts;
  const csv = await ensureDataSet(set, log);
  const dir = path.join(DATA_DIR, 'distributed', set);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const stage = 'dev';
  const emu = await startStack(stage, { persistDir: dir });
  const gen = SETS[set].gen;
  const result: DistributedRun = {
    set: SETS[set].name,
    ratings: gen.ratings,
    users: gen.users,
    movies: gen.movies,
    bytes: statSync(csv).size,
    partitions: shards,
    processes: opts.processes,
    status: 'not run',
    wallSeconds: 0,
    phases: [],
    steps: [],
  };
  let pool: WorkerPool | null = null;
  try {
    const env: NodeJS.ProcessEnv = {
      ...functionEnv(stage, emu),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    log(`${result.set}: uploading ${csv} (${(result.bytes / 2 ** 20).toFixed(0)} MiB) to s3rver…`);
    const key = `uploads/${path.basename(csv)}`;
    const put = await emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: createReadStream(csv), ContentLength: result.bytes }));
    const ref = { bucket: emu.bucket, key, etag: (put.ETag ?? '').replace(/"/g, ''), eventTime: new Date().toISOString() };
    const version = versionIdOf(ref);
    pool = await WorkerPool.start({ size: opts.processes, roles: ['worker', 'central', 'publish'], env });
    const phaseOf = (name: string) => PHASES.find(([, re]) => re.test(name))?.[0];
    const phaseSeconds = new Map<string, number>();
    let current: string | undefined;
    let since = performance.now();
    let t0 = performance.now();
    const machine = await trainingMachine({
      stage,
      env,
      pool,
      cacheDir: path.join(ROOT, '.local', 'cache'),
      onEvent: (e) => {
        if (e.type !== 'StateEntered' || !e.state) return;
        const phase = phaseOf(e.state.name);
        if (!phase || phase === current) return;
        const now = performance.now();
        if (current) phaseSeconds.set(current, (phaseSeconds.get(current) ?? 0) + (now - since) / 1000);
        log(`  ${result.set}: ${phase}… (${((now - t0) / 1000).toFixed(0)} s)`);
        current = phase;
        since = now;
      },
    });
    const input = executionInput(version, ref, sourceOrderOf(ref), {}, { shards });
    t0 = performance.now();
    since = t0;
    await machine.starter.start(executionNameOf(version), JSON.stringify(input));
    await machine.executions.idle();
    result.wallSeconds = (performance.now() - t0) / 1000;
    if (current) phaseSeconds.set(current, (phaseSeconds.get(current) ?? 0) + (performance.now() - since) / 1000);
    result.phases = PHASES.map(([p]) => [p, phaseSeconds.get(p) ?? 0] as [string, number]).filter(([, s]) => s > 0);
    const status = await new DynamoTrainingStatus(makeDocClient(emu.dynamo), emu.tables.clusters).get();
    result.status = status?.phase ?? 'no status';
    if (status?.error) result.error = status.error;
    result.steps = [...pool.stats].sort((a, b) => b[1].maxRssMiB - a[1].maxRssMiB);
    log(`${result.set}: ${result.status} in ${result.wallSeconds.toFixed(0)} s`);
  } catch (e) {
    result.status = 'failed';
    result.error = (e as Error).message;
    log(`${result.set}: failed: ${(e as Error).stack}`);
  } finally {
    await pool?.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);

export function renderDistributed(runs: DistributedRun[], header: { date: string; machine: string; load: string; loadAfter: string; command: string }): string {
  const parts = [
    `## Distributed training run ${header.date}`,
    '',
    `- command: \`${header.command}\``,
    `- machine: ${header.machine}`,
    `- load average (1/5/15 min) at start: ${header.load}; at end: ${header.loadAfter}`,
    '',
  ];
  for (const r of runs) {
    parts.push(
      `### ${r.set}: ${r.ratings.toLocaleString('en-US')} ratings (${r.users.toLocaleString('en-US')} users × ${r.movies.toLocaleString('en-US')} movies, ${mib(r.bytes)} MiB), ${r.partitions} partitions, ${r.processes} worker processes`,
      '',
      `Outcome: **${r.status}**${r.error ? ` (${r.error})` : ''}; wall ${r.wallSeconds.toFixed(0)} s.`,
      '',
      '| phase | seconds |',
      '|---|---|',
      ...r.phases.map(([p, s]) => `| ${p} | ${s.toFixed(1)} |`),
      '',
      '| step | invocations | peak RSS of one invocation (MiB) | seconds / invocation (mean, max) | S3 GET (requests, MiB) | S3 PUT (requests, MiB) |',
      '|---|---|---|---|---|---|',
      ...r.steps.map(
        ([name, s]) =>
          `| ${name} | ${s.invocations} | ${s.maxRssMiB.toFixed(0)} | ${(s.seconds / s.invocations).toFixed(2)}, ${s.maxSeconds.toFixed(2)} | ${s.s3.gets}, ${mib(s.s3.getBytes)} | ${s.s3.puts}, ${mib(s.s3.putBytes)} |`,
      ),
      '',
    );
    const total = r.steps.reduce((a, [, s]) => ({ get: a.get + s.s3.getBytes, put: a.put + s.s3.putBytes, req: a.req + s.s3.gets + s.s3.puts }), { get: 0, put: 0, req: 0 });
    const peak = Math.max(0, ...r.steps.map(([, s]) => s.maxRssMiB));
    parts.push(
      `Through S3: ${mib(total.get)} MiB read, ${mib(total.put)} MiB written, ${total.req.toLocaleString('en-US')} requests. Largest peak RSS of any invocation: ${peak.toFixed(0)} MiB (${peak <= 3008 ? 'fits' : 'does NOT fit'} a 3,008 MB function).`,
      '',
    );
  }
  return parts.join('\n');
}

export const DISTRIBUTED_HEADING = '## Distributed training (issue 17)';
const RUN_PREFIX = '## Distributed training run';

export const DISTRIBUTED_INTRO = `${DISTRIBUTED_HEADING}

\`npm run bench -- --distributed 25m:8,100m:32 [--processes 4]\` (bench/lib/distributed.ts) trains generated sets
(offline/generate.ts, seed 0) with the product default (the taste model, large-data settings) through the training
state machine: the definition synthesized from the stack, run by aws-local-stepfunctions against s3rver and dynalite
(in the bench process), every Task in one of N worker processes running the real handler — a warm "Lambda
container" whose peak resident memory is measured per invocation (VmHWM, reset before each). The upload is planned,
parsed, sharded, clustered, checked and published to dynalite. docs/SCALE.md turns these rates into a plan for 1B
ratings in AWS.
`;

/** The file with \`run\` placed after the last distributed run (the section is created when missing). */
export function insertDistributedRun(file: string, run: string): string {
  const text = file.includes(DISTRIBUTED_HEADING) ? file : `${file.trimEnd()}\n\n${DISTRIBUTED_INTRO.trimEnd()}\n`;
  const start = text.indexOf(DISTRIBUTED_HEADING);
  const re = /^## .*$/gm;
  re.lastIndex = start + DISTRIBUTED_HEADING.length;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!m[0].startsWith(RUN_PREFIX)) return `${text.slice(0, m.index).trimEnd()}\n\n${run.trimEnd()}\n\n${text.slice(m.index)}`;
  }
  return `${text.trimEnd()}\n\n${run.trimEnd()}\n`;
}
