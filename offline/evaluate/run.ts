// Evaluating several recommenders on one split: the engine behind `movierec evaluate`
// (bin/cli/evaluate.ts).

import { K } from '../../functions/core/evaluate/protocol';
import { Recommendations, Recommender, ScoreResult, evaluateRecommender } from '../../functions/core/evaluate/score';
import { EvalSplit } from '../../functions/core/evaluate/split';
import { TableRow } from './table';

export interface ModelRun {
  name: string;
  metrics: ScoreResult;
  /** wall time of training + recommending, seconds */
  secs: number;
  recs: Recommendations;
}

/** Runs each recommender in turn (in the given order) on the same split. `onResult` sees each run
 * as soon as it is scored (progress output, writing recs files) so lists need not be kept. */
export async function runEvaluation(
  split: EvalSplit,
  models: ReadonlyArray<readonly [string, Recommender]>,
  opts: { k?: number; onResult?: (run: ModelRun) => void; keepRecs?: boolean } = {},
): Promise<ModelRun[]> {
  const k = opts.k ?? K;
  const runs: ModelRun[] = [];
  for (const [name, rec] of models) {
    const { metrics, secs, recs } = await evaluateRecommender(rec, split, k);
    const run: ModelRun = { name, metrics, secs, recs: opts.keepRecs === false ? new Map() : recs };
    opts.onResult?.({ ...run, recs });
    runs.push(run);
  }
  return runs;
}

export function tableRows(runs: readonly ModelRun[]): TableRow[] {
  return runs.map((r) => ({ name: r.name, metrics: r.metrics, secs: r.secs }));
}
