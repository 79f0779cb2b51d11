// The state of one distributed training run: what its central steps have decided so far (run.json), the
// loop variables the state machine routes on, and the events each kind of step receives.
import type { Features } from '../../core/distributed/kmeans';
import type { Range } from '../../core/distributed/plan';
import type { RecommenderParams } from '../../core/recommender';
import type { Selection } from '../../core/recommender/select';
import type { TrainOverrides } from '../../core/train';
import type { DataReport, RatingsFormat } from '../../core/types';
import type { SourceRef } from '../../ports';
import type { RunStore } from '../../ports/training-run';
import { getJson, putJson, runKeys } from './run-files';

/** Settings of one run beyond the training parameters (the execution input's `options`). */
export interface RunOptions {
  /** partitions (the CLI's --shards, tests); default: sized from the upload (PARTITION_NNZ) */
  shards?: number;
  /** bytes per parse range (default RANGE_BYTES) */
  rangeBytes?: number;
  format?: 'auto' | RatingsFormat;
  maxRejectedShare?: number;
  /** run the hold-out check (default true) */
  check?: boolean;
  allowBelowPopular?: boolean;
  /** K-means worker threads per invocation (default: the engine's) */
  threads?: number;
  /** where the model goes: the model tables (default), or nowhere (the CLI and the bench assemble it) */
  publish?: 'tables' | 'none';
}

/** The execution input: canonical (fixed key order, no receive time), so a redelivered upload event starts
 * nothing new (Step Functions: same name and input while running = the same execution). */
export interface ExecutionInput {
  version: string;
  source: SourceRef;
  sourceOrder: string;
  params: TrainOverrides;
  options: RunOptions;
  /** set when an execution continues a previous one's clustering loop (history budget) */
  resume?: Loop;
}

/** One clustering to run (the seed algorithm has one; the taste model one per ensemble member). */
export interface Job {
  features: Features;
  k: number;
  nInit: number;
  maxIter: number;
  tol: number;
  randomState: number;
  /** cluster ids of this clustering start here (unique across the taste model's clusterings) */
  idOffset: number;
  /** centres fitted centrally on a user sample (the default model on large data, as large.ts): no seeding
   * or Lloyd loop here, one final assignment pass over every partition */
  sampled?: boolean;
}

export interface RunState {
  version: string;
  source: SourceRef;
  sourceOrder: string;
  sourceName: string;
  params: TrainOverrides;
  options: RunOptions;
  startedAt: string;
  plan: {
    format: RatingsFormat;
    /** a header line each range is parsed after ('' for formats without one) */
    header: string;
    /** lines before the first range */
    headerLines: number;
    bytes: number;
    ranges: Range[];
    /** partition q holds user ids in [bounds[q-1], bounds[q]) */
    bounds: number[];
    withTimes: boolean;
  };
  index?: { d: number };
  shards?: { rows: number[]; rowStarts: number[]; n: number; nnz: number; timesFinite: boolean; duplicates: number };
  report?: DataReport;
  model?: {
    params: RecommenderParams;
    notes: string[];
    jobs: Job[];
    tolAbs: { binary: number; unit: number };
    /** timestamps usable (taste recency) */
    times: boolean;
    selection: Selection | null;
    /** users the local matrices' co-occurrences were counted on (default model) */
    gramUsers?: number;
  };
  /** per job: the best restart (its last assignment pass holds the final labels) */
  results?: Array<{ restart: number; pass: number; inertia: number; iterations: number; inertias: number[] }>;
  /** seeding rounds and Lloyd passes run by the current execution (its history budget) */
  history?: { rounds: number; passes: number };
  seconds: Record<string, number>;
}

/** Loop variables the state machine routes on ($.loop). */
export interface Loop {
  next: 'select' | 'seed' | 'trial' | 'assign' | 'finish' | 'continue' | 'post' | 'members' | 'check' | 'publish' | 'done';
  job: number;
  restart: number;
  /** k-means++ round (centre index being chosen) */
  round: number;
  /** Lloyd assignment pass (0: the assignment to the seeds) */
  iteration: number;
  /** this assignment pass is the last (its labels are final) */
  final: boolean;
  /** rows the last reduce relocated into empty clusters (the next assignment reads them only then) */
  moved: number;
}

export const startLoop = (): Loop => ({ next: 'seed', job: 0, restart: 0, round: 0, iteration: 0, final: false, moved: 0 });

/** What a per-partition worker gets: the item is a range or partition index (or a column range). */
export interface WorkerEvent {
  step: string;
  version: string;
  item: number;
  loop?: Loop;
}

/** What a central step gets. */
export interface CentralEvent {
  step: string;
  version: string;
  loop?: Loop;
  /** the caught error (MarkFailed) */
  error?: { Error?: string; Cause?: string };
}

export const loadRun = (runs: RunStore, version: string) => getJson<RunState>(runs, runKeys.state(version));
export const saveRun = (runs: RunStore, run: RunState) => putJson(runs, runKeys.state(run.version), run);

/** Partition of a global row (rowStarts ascending, first 0). */
export function partitionOfRow(rowStarts: readonly number[], row: number): number {
  let lo = 0;
  let hi = rowStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (rowStarts[mid] <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
