// `npm run bench`: the product's performance numbers in one run — training (ours next to scikit-learn),
// publish, serving (in-process vs the raw GetItem floor, and HTTP on the local stack) and cold start.
// Prints the tables and records them, dated, with the machine and the exact command, in BENCHMARKS.md
// (after the previous bench runs, before sections others append, such as "## Soak"), and rewrites the
// summary at the top of BENCHMARKS.md from each target's latest measurement (bench/results/latest.json).
//
//   npm run bench [-- --quick] [--large] [--sets 100k,1m,5m,25m] [--only training,publish,serving,http,coldstart]
//                 [--defaults-sets 1m] [--configs one,seed,taste] [--requests 10000] [--http-seconds 10] [--cold-rounds 7] [--repeat 1] [--no-sklearn] [--no-write]
// --defaults-sets 1m: the sets that also run the seed defaults and the product default (25m for its target).
// --configs one,seed: only these training configurations (default all; a set outside --defaults-sets runs 'one' only).
// --repeat N: N alternating runs of ours and scikit-learn per set in the one-init comparison (medians reported).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../local/emulators';
import { benchColdStart, buildBundles } from './lib/coldstart';
import { DATA_DIR, ensureDataSet, SETS } from './lib/datasets';
import { describeMachine, load, machine } from './lib/machine';
import { ROOT, run } from './lib/proc';
import { insertRun } from './lib/record';
import { renderRun, Results } from './lib/report';
import { insertSummary, mergeLatest, renderSummary, type Latest } from './lib/summary';
import { distributedTargets, targets } from './lib/targets';
import { benchFiltered, benchHttp, benchInProcess, benchPublish, loadSnapshot, STAGE } from './lib/serving';
import { benchTraining, ConfigKey, CONFIGS, modelFile, sklearnMissing } from './lib/training';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SECTIONS = ['training', 'publish', 'serving', 'http', 'coldstart'] as const;
type Section = (typeof SECTIONS)[number];

const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
const LATEST_JSON = path.join(ROOT, 'bench', 'results', 'latest.json');
const BENCHMARKS_INTRO = `# Benchmarks

Performance numbers of movierec, measured on the machine named with each run. Quality numbers live in
EVALUATION.md (\`npm run evaluate\`).

## npm run bench

\`npm run bench\` (bench/run.ts, helpers in bench/lib/) measures, in one run:

1. **Training**: \`movierec train\` on generated sets (offline/generate.ts, seed 0, cached in
   \`.bench-data/\`) of 100k, 1M and 5M ratings (25M = 160k users × 60k movies with \`--large\`), each in a
   fresh process so the peak RSS is that run's: the seed algorithm at k=15 with one init, no fixClusters and
   no hold-out check (\`--algorithm seed --k 15 --n-init 1 --min-cluster-size 0 --skip-check\`, the comparison
   setting), and on 1M (or \`--defaults-sets\`) also the seed defaults (\`--algorithm seed\`) and the product
   default (no options: the default model). scikit-learn's \`KMeans(k=15, n_init=1, init='k-means++',
   random_state=0)\` fits the same binary CSR matrix (loaded from the same CSV with pandas; only the fit is
   timed) in the same run.
2. **Publish** of the 1M model (product default) to dynalite: requests and seconds.
3. **Serving**: the API handler in-process against dynalite (random known users, 10% unknown), each
   request followed by a raw GetItem of the same user's item as the floor; then autocannon against
   \`movierec local\` over loopback HTTP.
4. **Cold start**: the Lambda bundles built with lib/function.ts's esbuild options, and fresh Node
   processes loading each and answering one event, next to a minimal handler.

The summary at the top is rewritten by every run from each target's latest measurement
(bench/results/latest.json). Runs are recorded below, newest last (before other sections, such as the soak
runs). The machine is shared (2 vCPU, other engineers' jobs running), so compare ratios measured within one run.
`;

interface Options {
  sets: string[];
  sections: Set<Section>;
  requests: number;
  httpSeconds: number;
  coldRounds: number;
  repeat: number;
  defaultsSets: string[];
  configs: ConfigKey[];
  sklearn: boolean;
  write: boolean;
  distributed: Array<{ set: string; shards: number }>;
  processes: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      large: { type: 'boolean' },
      sets: { type: 'string' },
      only: { type: 'string' },
      requests: { type: 'string' },
      'http-seconds': { type: 'string' },
      'cold-rounds': { type: 'string' },
      repeat: { type: 'string' },
      'defaults-sets': { type: 'string' },
      configs: { type: 'string' },
      'no-sklearn': { type: 'boolean' },
      'no-write': { type: 'boolean' },
      distributed: { type: 'string' },
      processes: { type: 'string' },
    },
  });
  const int = (v: string | undefined, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}".`);
    return n;
  };
  let sets = values.quick ? ['100k', '1m'] : ['100k', '1m', '5m'];
  if (values.large) sets.push('25m');
  if (values.sets) sets = values.sets.split(',').map((s) => s.trim().toLowerCase());
  for (const s of sets) if (!SETS[s]) throw new Error(`--sets: unknown set "${s}"; use ${Object.keys(SETS).join(', ')}.`);
  const defaultsSets = (values['defaults-sets'] ?? '1m').split(',').map((s) => s.trim().toLowerCase());
  for (const s of defaultsSets) if (!SETS[s]) throw new Error(`--defaults-sets: unknown set "${s}"; use ${Object.keys(SETS).join(', ')}.`);
  const configs = (values.configs ?? Object.keys(CONFIGS).join(',')).split(',').map((s) => s.trim()) as ConfigKey[];
  for (const c of configs) if (!(c in CONFIGS)) throw new Error(`--configs: unknown configuration "${c}"; use ${Object.keys(CONFIGS).join(', ')}.`);
  // --distributed SET:PARTITIONS,… (the training state machine, minutes to hours): alone unless --only is given too
  const distributed = (values.distributed ?? '').split(',').filter(Boolean).map((p) => {
    const [set, shards] = p.trim().toLowerCase().split(':');
    if (!SETS[set] || !(Number(shards) >= 1)) throw new Error(`--distributed: "${p}" is not SET:PARTITIONS with a set of ${Object.keys(SETS).join(', ')}.`);
    return { set, shards: Number(shards) };
  });
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : distributed.length ? [] : [...SECTIONS];
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}"; use ${SECTIONS.join(', ')}.`);
  return {
    sets,
    sections: new Set(only as Section[]),
    requests: int(values.requests, '--requests', values.quick ? 2_000 : 10_000),
    httpSeconds: int(values['http-seconds'], '--http-seconds', values.quick ? 5 : 10),
    coldRounds: int(values['cold-rounds'], '--cold-rounds', values.quick ? 3 : 7),
    repeat: int(values.repeat, '--repeat', 1),
    defaultsSets,
    configs,
    sklearn: !values['no-sklearn'],
    write: !values['no-write'],
    distributed,
    processes: int(values.processes, '--processes', 4),
  };
}

const log = (s: string) => console.error(s);

/** The 1M model (`movierec train` with no options, what the product serves) the publish, serving and
 * cold-start sections use. */
async function servingModel(): Promise<string> {
  const file = modelFile('1m', 'taste');
  if (existsSync(file)) return file;
  const csv = await ensureDataSet('1m', log);
  log('training the 1M model (product default) for the serving sections…');
  await run(process.execPath, [path.join(ROOT, 'bin', 'movierec.js'), 'train', '--ratings', csv, '--out', file, ...CONFIGS.taste.args, '--quiet']);
  return file;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = options(argv);
  const m = machine();
  const startLoad = load();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  log(`movierec bench ${date} on ${describeMachine(m)}; load ${startLoad}`);
  const results: Results = { training: [], sklearnNote: null, publish: null, inProcess: null, http: null, cold: [], failures: [] };
  /** runs one section; a failure is reported with the others' numbers instead of losing them */
  const section = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.trim()).slice(0, 3).join(' / ');
      results.failures.push(`${name}: ${msg}`);
      log(`${name} failed: ${e instanceof Error ? e.stack : e}`);
    }
  };

  if (o.sections.has('training')) await section('training', async () => {
    const missing = o.sklearn ? sklearnMissing() : 'skipped (--no-sklearn)';
    if (missing) {
      results.sklearnNote = o.sklearn ? `skipped: ${missing}` : missing;
      log(`scikit-learn ${results.sklearnNote}`);
    } else {
      results.sklearnNote = 'KMeans(n_clusters=15, n_init=1, init="k-means++", max_iter=300, tol=1e-4, random_state=0), default threads (OpenMP: all cores)';
    }
    results.training = await benchTraining({ sets: o.sets, defaultsSets: o.defaultsSets, configs: o.configs, sklearn: !missing, repeats: o.repeat, log });
  });

  const needStack = o.sections.has('publish') || o.sections.has('serving') || o.sections.has('coldstart');
  if (needStack) await section('publish/serving/coldstart', async () => {
    const snapshot = loadSnapshot(await servingModel());
    const stack = await startStack(STAGE);
    try {
      log('publishing the 1M model to dynalite…');
      const pub = await benchPublish(stack, snapshot);
      if (o.sections.has('publish')) results.publish = pub;
      if (o.sections.has('serving')) {
        log(`serving ${o.requests} requests in-process…`);
        results.inProcess = await benchInProcess(stack, snapshot, o.requests);
        // after the plain phase, which therefore stays as before (no catalogue loaded)
        log(`serving ${o.requests} users with and without filters, a catalogue loaded…`);
        results.filtered = await benchFiltered(stack, snapshot, o.requests);
      }
      if (o.sections.has('coldstart')) {
        log('bundling the Lambda entries and timing cold starts…');
        const bundles = await buildBundles(snapshot.users.ids[0]);
        results.cold = await benchColdStart(bundles, o.coldRounds, stack.dynamoEndpoint, STAGE);
      }
    } finally {
      await stack.stop();
    }
  });

  if (o.sections.has('http')) await section('http', async () => {
    const csv = await ensureDataSet('1m', log);
    log('starting movierec local on the 1M set (trains with the defaults first)…');
    const ids = Array.from({ length: SETS['1m'].gen.users }, (_, i) => i + 1);
    results.http = await benchHttp({
      ratings: path.relative(ROOT, csv),
      userIds: ids,
      dataDir: path.relative(ROOT, path.join(DATA_DIR, 'local')),
      seconds: o.httpSeconds,
      connections: 10,
      log,
    });
  });

  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  if (o.distributed.length) {
    const { benchDistributed, insertDistributedRun, renderDistributed } = await import('./lib/distributed');
    const runs = await benchDistributed(o.distributed, { processes: o.processes, log });
    const text = renderDistributed(runs, { date, machine: describeMachine(m), load: startLoad, loadAfter: load(), command });
    console.log(text);
    if (o.write) {
      const latest = mergeLatest(existsSync(LATEST_JSON) ? (JSON.parse(readFileSync(LATEST_JSON, 'utf8')) as Latest) : {}, distributedTargets(runs), {
        date,
        command,
        machine: describeMachine(m),
        load: startLoad,
      });
      mkdirSync(path.dirname(LATEST_JSON), { recursive: true });
      writeFileSync(LATEST_JSON, `${JSON.stringify(latest, null, 2)}\n`);
      const withRun = insertDistributedRun(existsSync(BENCHMARKS_MD) ? readFileSync(BENCHMARKS_MD, 'utf8') : '', text);
      // the summary in the full run's order (every target listed; this run measured only its own)
      writeFileSync(BENCHMARKS_MD, insertSummary(withRun, renderSummary(latest, targets({ training: [], sklearnNote: null, publish: null, inProcess: null, http: null, cold: [], failures: [] }))));
    }
    if (o.sections.size === 0) return;
  }
  const text = renderRun(results, { date, machine: describeMachine(m), load: startLoad, loadAfter: load(), command });
  console.log(text);
  if (o.write) {
    const before = existsSync(BENCHMARKS_MD) ? readFileSync(BENCHMARKS_MD, 'utf8') : '';
    const runInfo = { date, command, machine: describeMachine(m), load: startLoad };
    const latest = mergeLatest(existsSync(LATEST_JSON) ? (JSON.parse(readFileSync(LATEST_JSON, 'utf8')) as Latest) : {}, targets(results), runInfo);
    mkdirSync(path.dirname(LATEST_JSON), { recursive: true });
    writeFileSync(LATEST_JSON, `${JSON.stringify(latest, null, 2)}\n`);
    writeFileSync(BENCHMARKS_MD, insertSummary(insertRun(before, text, BENCHMARKS_INTRO), renderSummary(latest, targets(results))));
    log(`recorded in ${path.relative(process.cwd(), BENCHMARKS_MD) || 'BENCHMARKS.md'} (after the previous bench runs)`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
