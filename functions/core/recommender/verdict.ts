// The publish gate's verdict: a model's held-out metrics next to most-popular's on the same users, and
// whether the model is at least `minRatio` times as good (NDCG@10). The small-data check (check.ts) and the
// large-data path (large.ts) both decide with it.
import { ScoreResult } from '../evaluate/score';

export interface HoldoutMetrics {
  precision: number;
  recall: number;
  ndcg: number;
  hitrate: number;
  coverage: number;
}

/** A type (not an interface) so it fits TrainingSummary.holdout (Record<string, unknown>). */
export type HoldoutReport = {
  mode: 'temporal' | 'random';
  users: number;
  testRows: number;
  model: HoldoutMetrics;
  popular: HoldoutMetrics;
  /** model NDCG@10 / most-popular NDCG@10 (null when most-popular scores 0) */
  ratio: number | null;
  /** the model must reach minRatio × most-popular's NDCG@10 */
  minRatio: number;
  passed: boolean;
  reason: string;
};

export function pickMetrics(s: ScoreResult): HoldoutMetrics {
  return {
    precision: s['precision@10'],
    recall: s['recall@10'],
    ndcg: s['ndcg@10'],
    hitrate: s['hitrate@10'],
    coverage: s['coverage@10'],
  };
}

export function verdict(
  mine: HoldoutMetrics,
  pop: HoldoutMetrics,
  o: { mode: 'temporal' | 'random'; users: number; testRows: number; minRatio: number },
): HoldoutReport {
  const ratio = pop.ndcg > 0 ? mine.ndcg / pop.ndcg : null;
  const passed = mine.ndcg >= o.minRatio * pop.ndcg;
  const f = (v: number) => v.toFixed(4);
  const reason = passed
    ? `held-out NDCG@10 ${f(mine.ndcg)} ≥ ${o.minRatio} × most-popular ${f(pop.ndcg)} on ${o.users} users (${o.mode} hold-out)`
    : `held-out NDCG@10 ${f(mine.ndcg)} is below ${o.minRatio} × most-popular's ${f(pop.ndcg)} on ${o.users} users (${o.mode} hold-out)`;
  return { mode: o.mode, users: o.users, testRows: o.testRows, model: mine, popular: pop, ratio, minRatio: o.minRatio, passed, reason };
}
