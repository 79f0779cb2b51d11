// The product's performance targets and their verdicts for one bench run. A target a run did not measure
// says so (and how to measure it); BENCHMARKS.md's summary keeps each target's latest measured verdict
// (bench/lib/summary.ts), so a partial run (`--only serving`) never hides what a full one found.
import type { Results } from './report';
import { fx, kb, mib } from './stats';
import { CONFIGS, type TrainingRow } from './training';
import type { DistributedRun } from './distributed';

export type Verdict = 'pass' | 'FAIL' | 'not measured';

export interface TargetResult {
  /** stable key of the target (BENCHMARKS.md's summary is keyed by it) */
  id: string;
  name: string;
  verdict: Verdict;
  detail: string;
}

const GB = 1e9;
const LARGE = '25M';

/** What the product promises, with the limit each verdict is judged on. */
export const LIMITS = {
  seedFitRatio: 0.1,
  seedTrainSeconds: 15,
  seedTrainRssBytes: 1.0 * GB,
  defaultTrainSeconds: 30,
  defaultTrainRssBytes: 1.5 * GB,
  inertiaRatio: 1.01,
  servingRatio: 1.5,
  filteredRatio: 1.2,
  apiBundleBytes: 300_000,
  /** a worker, central or publish function of the training state machine (a new account's ceiling) */
  distributedFunctionMb: 3008,
} as const;

const v = (ok: boolean): Verdict => (ok ? 'pass' : 'FAIL');
const gb = (bytes: number) => `${(bytes / GB).toFixed(2)} GB (${mib(bytes)} MiB)`;

function phases(row: TrainingRow): string {
  return Object.entries(row.ours.seconds)
    .map(([k, s]) => `${k} ${fx(s)}`)
    .join(', ');
}

function trainTarget(id: string, name: string, row: TrainingRow | undefined, seconds: number, rss: number, how: string): TargetResult {
  if (!row) return { id, name, verdict: 'not measured', detail: how };
  const t = row.ours.wallSeconds;
  const r = row.ours.maxRssBytes;
  return { id, name, verdict: v(t <= seconds && r <= rss), detail: `${fx(t, 1)} s, ${gb(r)} (${phases(row)})` };
}

export function targets(r: Results): TargetResult[] {
  const out: TargetResult[] = [];
  const at = (config: string) => r.training.find((t) => t.set === LARGE && t.config === config);
  const one = at(CONFIGS.one.label);
  const oneRuns = r.training.filter((t) => t.config === CONFIGS.one.label);

  const fitName = `seed algorithm: K-means fit on 25M (k=15, one init) ≤ ${LIMITS.seedFitRatio} × scikit-learn's fit, same run`;
  if (one?.sklearn) {
    const ratio = one.ours.seconds.cluster / one.sklearn.fitSeconds;
    const cpu = one.ours.cpuSeconds.cluster / one.sklearn.fitCpuSeconds;
    out.push({
      id: 'seed-fit',
      name: fitName,
      verdict: v(ratio <= LIMITS.seedFitRatio),
      detail: `${fx(one.ours.seconds.cluster)} s vs ${fx(one.sklearn.fitSeconds)} s = ${fx(ratio, 3)} × wall (CPU ${fx(cpu, 3)} ×; ${one.ours.iterations} vs ${one.sklearn.iterations} iterations)`,
    });
  } else {
    const largest = [...oneRuns].reverse().find((t) => t.sklearn);
    const hint = largest?.sklearn ? `; largest set of this run, ${largest.set}: ${fx(largest.ours.seconds.cluster / largest.sklearn.fitSeconds, 3)} ×` : '';
    out.push({ id: 'seed-fit', name: fitName, verdict: 'not measured', detail: `no 25M run next to scikit-learn (run with --large)${hint}` });
  }

  out.push(
    trainTarget(
      'seed-train',
      `seed algorithm: \`movierec train\` 25M (one init, no fix) ≤ ${LIMITS.seedTrainSeconds} s and peak RSS ≤ ${LIMITS.seedTrainRssBytes / GB} GB`,
      one,
      LIMITS.seedTrainSeconds,
      LIMITS.seedTrainRssBytes,
      'run with --large',
    ),
  );
  out.push(
    trainTarget(
      'default-train',
      `default model: \`movierec train\` 25M ≤ ${LIMITS.defaultTrainSeconds} s and peak RSS ≤ ${LIMITS.defaultTrainRssBytes / GB} GB`,
      at(CONFIGS.taste.label),
      LIMITS.defaultTrainSeconds,
      LIMITS.defaultTrainRssBytes,
      'run with --large --defaults-sets 25m',
    ),
  );

  const inertiaRow = one?.sklearn ? one : [...oneRuns].reverse().find((t) => t.sklearn);
  if (inertiaRow?.sklearn) {
    const ratio = inertiaRow.ours.inertia / inertiaRow.sklearn.inertia;
    out.push({
      id: 'inertia',
      name: `seed algorithm: inertia ≤ ${LIMITS.inertiaRatio} × scikit-learn's at one init`,
      verdict: v(ratio <= LIMITS.inertiaRatio),
      detail: `${inertiaRow.set}: ${fx(ratio, 4)} × (${fx(inertiaRow.ours.inertia, 1)} vs ${fx(inertiaRow.sklearn.inertia, 1)})`,
    });
  }

  const servingName = `serving: p99 in-process ≤ ${LIMITS.servingRatio} × raw GetItem p99, same run`;
  if (r.inProcess) {
    const s = r.inProcess;
    const ratio = s.handler.p99 / s.getItem.p99;
    out.push({
      id: 'serving',
      name: servingName,
      verdict: v(ratio <= LIMITS.servingRatio),
      detail: `${fx(s.handler.p99)} ms vs ${fx(s.getItem.p99)} ms = ${fx(ratio)} × (p50 ${fx(s.handler.p50)} vs ${fx(s.getItem.p50)} ms; ${fx(s.readsPerRequest)} reads/request)`,
    });
  } else {
    out.push({ id: 'serving', name: servingName, verdict: 'not measured', detail: 'run with --only serving (or no --only)' });
  }

  if (r.filtered) {
    const f = r.filtered;
    const ratio = f.filtered.p99 / f.unfiltered.p99;
    out.push({
      id: 'filtered',
      name: `serving with filters: p99 ≤ ${LIMITS.filteredRatio} × the unfiltered p99`,
      verdict: v(ratio <= LIMITS.filteredRatio),
      detail: `${fx(f.filtered.p99)} ms vs ${fx(f.unfiltered.p99)} ms = ${fx(ratio)} ×`,
    });
  }

  const api = r.cold.find((c) => c.name === 'api');
  if (api) {
    out.push({
      id: 'api-bundle',
      name: `API bundle ≤ ${LIMITS.apiBundleBytes / 1000} KB minified`,
      verdict: v(api.bytes <= LIMITS.apiBundleBytes),
      detail: `${kb(api.bytes)} KB (${kb(api.gzipBytes)} KB gzip), AWS SDK ${api.sdk === 'runtime' ? 'from the Lambda runtime' : 'bundled'}`,
    });
  }
  return out;
}

/** Training past one function (issue 17): a set through the state machine published, every invocation's peak
 * within a 3,008 MB function. One target per set and partition count run. */
export function distributedTargets(runs: readonly DistributedRun[]): TargetResult[] {
  return runs.map((d) => {
    const peak = Math.round(Math.max(0, ...d.steps.map(([, st]) => st.maxRssMiB)));
    const worst = d.steps.find(([, st]) => Math.round(st.maxRssMiB) === peak)?.[0] ?? '-';
    const ok = d.status === 'published' && peak * 2 ** 20 <= LIMITS.distributedFunctionMb * 1e6;
    return {
      id: `distributed-${d.set}-${d.partitions}`,
      name: `training past one function: ${d.set} ratings through the state machine with ${d.partitions} partitions published, every invocation ≤ ${LIMITS.distributedFunctionMb} MB`,
      verdict: v(ok),
      detail: `${d.status} in ${fx(d.wallSeconds, 0)} s on ${d.processes} worker process${d.processes === 1 ? '' : 'es'}; largest peak ${peak} MiB (${worst})${d.error ? `; ${d.error}` : ''}`,
    };
  });
}
