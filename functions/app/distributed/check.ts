// Step Check (central): the publish gate of today's training — the whole procedure retrained on a hold-out
// carved from a sample of users (the very sample trainChecked draws: it depends only on the user count and
// the seed), scored against most-popular — then the version's training report and its summary.
import { assertPublishable, CHECK_MAX_USERS, holdoutCheck, sampleRowIndices, tasteSummary, type HoldoutReport } from '../../core/recommender';
import type { TrainingSummary } from '../../core/snapshot';
import { type TrainedVersion, trainingReport, trainingReportKey, versionSummary } from '../upload';
import { type DistributedDeps, setStatus } from './deps';
import { gatherAll, gatherRows } from './gather';
import { modelLists } from './post';
import { getJson, putJson, runKeys } from './run-files';
import { type CentralEvent, type Loop, loadRun, type RunState, saveRun } from './state';

/** What the publish writes into the version's metadata (as today's upload use case does). */
export interface TrainedSummary {
  training: TrainingSummary;
  summary: Record<string, unknown>;
  reportKey: string;
  createdAt: string;
}

export async function checkModel(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const run = await loadRun(deps.runs, event.version);
  const model = run.model!;
  const p = model.params;
  await setStatus(deps, run.version, { phase: 'checking' });
  let holdout: HoldoutReport | null = null;
  if (run.options.check !== false) {
    const t0 = performance.now();
    const n = run.shards!.n;
    const sample = n <= CHECK_MAX_USERS ? await gatherAll(deps.runs, run, { times: model.times }) : await gatherRows(deps.runs, run, Array.from(sampleRowIndices(n, CHECK_MAX_USERS, p.randomState)), { times: model.times });
    holdout = await holdoutCheck(sample.x, p, { times: model.times ? sample.times : undefined, threads: run.options.threads });
    if (n > CHECK_MAX_USERS) holdout.reason += ` (a random sample of ${CHECK_MAX_USERS} of ${n} users)`;
    run.seconds.check = (performance.now() - t0) / 1000;
  }
  const training = await trainingSummary(deps, run, holdout);
  const createdAt = new Date((deps.now ?? Date.now)()).toISOString();
  const lists = await modelLists(deps.runs, run.version);
  const trainSeconds = (Date.parse(createdAt) - Date.parse(run.startedAt)) / 1000;
  const reportKey = trainingReportKey(run.version);
  const trained: TrainedVersion = { version: run.version, source: run.source, createdAt, params: p, data: run.report!, training, clusters: lists.clusters, trainSeconds, reportKey };
  if (deps.reports) await deps.reports.putJson(reportKey, trainingReport(trained));
  const summary = { ...versionSummary(trained), distributed: { partitions: run.shards!.rows.length, ranges: run.plan.ranges.length } };
  await putJson(deps.runs, runKeys.summary(run.version), { training, summary, reportKey, createdAt } satisfies TrainedSummary);
  await saveRun(deps.runs, run);
  // a model worse than most-popular on its hold-out is refused here (rejection report, lease released)
  if (holdout) assertPublishable(holdout, { allowBelowPopular: run.options.allowBelowPopular });
  return { ...event.loop!, next: run.options.publish === 'none' ? 'done' : 'publish' };
}

/** The training summary today's single path writes (TrainingSummary), from the run's results. */
async function trainingSummary(deps: DistributedDeps, run: RunState, holdout: HoldoutReport | null): Promise<TrainingSummary> {
  const model = run.model!;
  const p = model.params;
  const results = run.results!;
  const lists = await modelLists(deps.runs, run.version);
  const notes = [...model.notes];
  const seconds = { ...run.seconds };
  if (p.algorithm === 'seed') {
    const r = results[0];
    return { inertia: r.inertia, iterations: r.iterations, inertias: r.inertias, seconds, fix: lists.fix[0], engine: 'default', notes, ...(holdout ? { holdout } : {}) };
  }
  return {
    inertia: results[0].inertia,
    iterations: results[0].iterations,
    inertias: results.map((r) => r.inertia),
    seconds,
    fix: lists.fix[0],
    engine: 'taste',
    notes,
    taste: tasteSummary(p, { clusters: lists.clusters }, lists.fix.map((f) => f.dissolved.length), model.gramUsers ?? 0, model.selection),
    ...(holdout ? { holdout } : {}),
  };
}

export const readSummary = (deps: DistributedDeps, version: string) => getJson<TrainedSummary>(deps.runs, runKeys.summary(version));
