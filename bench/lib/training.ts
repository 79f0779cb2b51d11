// Section 1: training. Each run is `movierec train` in a fresh child process (bench/lib/train-child.ts), so
// the peak RSS is that run's alone; scikit-learn's KMeans fits the same matrix in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, ensureDataSet, SETS } from './datasets';
import { lastJson, run, RUN_TS, ROOT } from './proc';
import { ChildResult, RESULT_MARK } from './train-summary';

export const PYTHON = '/usr/bin/python3';
export const K = 15;

export interface SklearnResult {
  version: string;
  loadSeconds: number;
  fitSeconds: number;
  /** CPU seconds of all threads during the fit */
  fitCpuSeconds: number;
  inertia: number;
  iterations: number;
  nnz: number;
  maxRssBytes: number;
}

export interface TrainingRow {
  set: string;
  /** CONFIGS label: the scikit-learn comparison setting, or a shipped default */
  config: string;
  command: string;
  /** the median run by clustering seconds (of `repeats` runs) */
  ours: ChildResult;
  /** seconds from spawning that run's process to its exit (node start and bundle load included) */
  processSeconds: number;
  /** the median fit by seconds (of `repeats` fits, interleaved with ours) */
  sklearn: SklearnResult | null;
  repeats: number;
  /** every run's clustering seconds and scikit-learn fit seconds, in run order */
  clusterRuns: number[];
  sklearnRuns: number[];
  modelFile: string;
}

/** Why scikit-learn cannot run here, or null when it can. */
export function sklearnMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    execFileSync(PYTHON, ['-c', 'import sklearn, scipy, pandas, numpy'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PYTHON} lacks scikit-learn, scipy, pandas or numpy (Debian: apt-get install python3-sklearn python3-pandas)`;
  }
}

export type ConfigKey = 'one' | 'seed' | 'taste';

/** The `movierec train` arguments of each configuration, and its label in the tables. */
export const CONFIGS: Record<ConfigKey, { label: string; args: string[] }> = {
  // the comparison setting next to scikit-learn: the seed algorithm's K-means, one init, no fixClusters, no hold-out check
  one: { label: 'one init, no fix', args: ['--algorithm', 'seed', '--k', String(K), '--n-init', '1', '--min-cluster-size', '0', '--skip-check'] },
  // the seed project's defaults: n_init 10 (fewer on huge data), fixClusters, hold-out check
  seed: { label: 'seed defaults', args: ['--algorithm', 'seed'] },
  // what `movierec train` does with no options (the default model, CL-EASE)
  taste: { label: 'product default (CL-EASE)', args: [] },
};

export function modelFile(setKey: string, config: ConfigKey): string {
  return path.join(DATA_DIR, `model-${setKey}-${config}.json`);
}

async function trainChild(args: string[]): Promise<{ result: ChildResult; processSeconds: number }> {
  const { stdout, wallSeconds } = await run(process.execPath, [RUN_TS, 'bench/lib/train-child.ts', ...args]);
  return { result: lastJson<ChildResult>(stdout, RESULT_MARK), processSeconds: wallSeconds };
}

function medianBy<T>(xs: T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)];
}

export async function sklearnFit(csv: string, nInit: number): Promise<SklearnResult> {
  const { stdout } = await run(PYTHON, [path.join(ROOT, 'bench', 'lib', 'sklearn_fit.py'), csv, String(K), String(nInit)]);
  return lastJson<SklearnResult>(stdout);
}

export interface TrainingOptions {
  sets: string[];
  /** the sets that also get runs with the seed defaults and the product default */
  defaultsSets: string[];
  /** the configurations to run (default all; a set outside defaultsSets runs 'one' only) */
  configs?: ConfigKey[];
  sklearn: boolean;
  /** runs of ours and scikit-learn, alternating, for the one-init comparison (medians are reported) */
  repeats: number;
  log: (s: string) => void;
}

export async function benchTraining(o: TrainingOptions): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for (const key of o.sets) {
    const csv = await ensureDataSet(key, o.log);
    const rel = path.relative(ROOT, csv);
    const name = SETS[key].name;
    const configs = (o.defaultsSets.includes(key) ? (['one', 'seed', 'taste'] as ConfigKey[]) : (['one'] as ConfigKey[])).filter(
      (c) => !o.configs || o.configs.includes(c),
    );
    for (const config of configs) {
      const out = modelFile(key, config);
      const args = ['--ratings', rel, '--out', path.relative(ROOT, out), ...CONFIGS[config].args];
      const runs: Array<{ result: ChildResult; processSeconds: number }> = [];
      const fits: SklearnResult[] = [];
      const n = config === 'one' ? o.repeats : 1;
      for (let i = 0; i < n; i++) {
        const which = `${name} (${CONFIGS[config].label})${n > 1 ? ` run ${i + 1}/${n}` : ''}`;
        o.log(`training ${which} in a fresh process…`);
        runs.push(await trainChild(args));
        if (config === 'one' && o.sklearn) {
          o.log(`  scikit-learn KMeans on ${name}…`);
          fits.push(await sklearnFit(csv, 1));
        }
      }
      const med = medianBy(runs, (r) => r.result.seconds.cluster);
      rows.push({
        set: name,
        config: CONFIGS[config].label,
        command: `movierec train ${args.join(' ')}`,
        ours: med.result,
        processSeconds: med.processSeconds,
        sklearn: fits.length ? medianBy(fits, (f) => f.fitSeconds) : null,
        repeats: n,
        clusterRuns: runs.map((r) => r.result.seconds.cluster),
        sklearnRuns: fits.map((f) => f.fitSeconds),
        modelFile: out,
      });
    }
  }
  return rows;
}
