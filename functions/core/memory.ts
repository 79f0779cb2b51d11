// How much memory training a ratings file takes, from what the file holds — its distinct (user, movie) pairs,
// users and movies — not from its size in bytes (duplicates cost nothing: the reader collapses them as it
// reads). Every entry point gives training a budget from the memory it really has (the Lambda's
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, the local stack's training memory, the memory free on the machine for the
// CLI); the reader consults it as the file grows and refuses the file as soon as it cannot fit, with the
// memory the whole file would need and the setting that gives it.
import type { DataShape } from './ratings/builder';
import { InputError } from './types';

export type { DataShape };

export const MB = 2 ** 20;

/**
 * Peak RSS of a training run (parse → matrix → the default taste model with selection and the hold-out check
 * → model), as base + per pair + per user + per movie, fitted on peak RSS measured on real `movierec train`
 * processes (bench/memory.ts; the runs and the fit are in BENCHMARKS.md, "Memory run"). Up to
 * SELECTED_PAIRS pairs the taste model chooses k, temperature and half-life on a hold-out, which costs
 * bytesPerSelectedPair more per pair; above that it takes its large-data path (params.ts largeDataNnz: sampled
 * K-means and validation), so the extra stops growing. The fit was made on the taste model before CL-EASE; the
 * CL-EASE default measured 1.07 GiB peak at 25M (BENCHMARKS.md), under this estimate. Each coefficient is rounded up from the fit and covers every measured run; the budget below
 * keeps a further margin.
 */
export const TRAINING_FOOTPRINT = {
  baseMb: 220,
  bytesPerPair: 55,
  bytesPerSelectedPair: 90,
  bytesPerUser: 1300,
  bytesPerMovie: 9000,
};

/** Pairs up to which the default model selects its parameters on a hold-out of all its users (TASTE_DEFAULTS.largeDataNnz). */
export const SELECTED_PAIRS = 5_000_000;

/** Share of an entry point's memory training may plan to use: the rest is slack for the garbage collector's
 * timing, the publish that follows, and the fit's error. */
export const BUDGET_SHARE = 0.85;

/** Estimated peak memory (MB) of training data of this shape. */
export function trainingMb(s: DataShape): number {
  const f = TRAINING_FOOTPRINT;
  const selected = Math.min(s.pairs, SELECTED_PAIRS);
  return f.baseMb + (s.pairs * f.bytesPerPair + selected * f.bytesPerSelectedPair + s.users * f.bytesPerUser + s.movies * f.bytesPerMovie) / MB;
}

/** The memory an entry point would need for data of this shape, rounded up to 64 MB. */
export function memoryNeededMb(s: DataShape): number {
  return Math.ceil(trainingMb(s) / BUDGET_SHARE / 64) * 64;
}

export interface MemoryBudget {
  /** memory (MB) this entry point has for training */
  memoryMb: number;
  /** who has it, for messages: "this training function (3,008 MB)" */
  holder: string;
  /** the action that gives training `mb` MB: "deploy with -c dev:trainingMemory=4096" */
  raise: (mb: number) => string;
  /** the most this entry point can ever be given (a Lambda function: 10,240 MB) */
  maxMb?: number;
}

/** The largest number of pairs that could fit the budget (no users or movies counted): caps pre-sizing. */
export function maxPairsFor(b: MemoryBudget): number {
  const f = TRAINING_FOOTPRINT;
  const bytes = (b.memoryMb * BUDGET_SHARE - f.baseMb) * MB;
  const selected = SELECTED_PAIRS * (f.bytesPerPair + f.bytesPerSelectedPair);
  if (bytes <= selected) return Math.max(0, Math.floor(bytes / (f.bytesPerPair + f.bytesPerSelectedPair)));
  return SELECTED_PAIRS + Math.floor((bytes - selected) / f.bytesPerPair);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The check the reader runs as the data grows: throws InputError `too_large` once data of `shape` would not fit
 * the budget. `share` — how much of the input was read (0..1, or null when its size is unknown) — extrapolates
 * what the whole file needs, so the message can name the setting that would accept it.
 */
export function memoryCheck(b: MemoryBudget, sourceName: string): (shape: DataShape, share: number | null) => void {
  const limit = b.memoryMb * BUDGET_SHARE;
  return (shape, share) => {
    if (trainingMb(shape) <= limit) return;
    // users and pairs grow with the file; movies level off early, so they are not extrapolated
    const whole: DataShape | null =
      share !== null && share > 0 && share < 1 ? { pairs: shape.pairs / share, users: shape.users / share, movies: shape.movies } : share === 1 ? shape : null;
    const need = memoryNeededMb(whole ?? shape);
    const so = `${fmt(shape.pairs)} distinct (user, movie) pairs of ${fmt(shape.users)} users and ${fmt(shape.movies)} movies`;
    const read = share !== null && share < 1 ? ` after ${Math.max(1, Math.floor(share * 100))}% of the file` : '';
    const head = `${sourceName}: ${so}${read} already need more memory than ${b.holder} can give training`;
    const tail =
      b.maxMb !== undefined && need > b.maxMb
        ? `the whole file needs about ${fmt(need)} MB, more than the ${fmt(b.maxMb)} MB it can be given: split the file into smaller uploads.`
        : whole
          ? `the whole file needs about ${fmt(need)} MB: ${b.raise(need)}.`
          : `it needs more than ${fmt(need)} MB: ${b.raise(need)}, or more.`;
    throw new InputError('too_large', `${head}; ${tail}`, { shape, memoryMb: b.memoryMb, neededMb: whole ? need : undefined });
  };
}
