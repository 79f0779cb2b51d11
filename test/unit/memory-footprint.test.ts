// The training-memory estimate every entry point plans with (functions/core/memory.ts) against the peak RSS
// measured on real processes by bench/memory.ts (BENCHMARKS.md, "Memory run"): it must cover every run, or a
// file the estimate accepts could run a Lambda out of memory. The numbers are copied from that run; a new run
// that finds more memory must raise the footprint, and this test then fails until it does.
import { BUDGET_SHARE, maxPairsFor, memoryNeededMb, SELECTED_PAIRS, trainingMb, TRAINING_FOOTPRINT } from '../../functions/core/memory';
import { TASTE_DEFAULTS } from '../../functions/core/recommender/params';
import { lambdaMemoryBudget } from '../../functions/app/upload';

const MEASURED = [
  // set, path, distinct pairs, users, movies, peak RSS MiB (VmHWM)
  ['1M', 'cli', 1_000_000, 10_000, 5_000, 386],
  ['1M', 'handler', 1_000_000, 10_000, 5_000, 397],
  ['5M', 'cli', 5_000_000, 40_000, 20_000, 1049],
  ['users-heavy', 'cli', 3_000_000, 300_000, 3_000, 963],
  ['movies-heavy', 'cli', 2_000_000, 5_000, 297_143, 2912],
  ['25M', 'cli', 25_000_000, 160_000, 60_000, 2460],
] as const;

test.each(MEASURED)('the estimate covers the measured run: %s via %s', (_set, _path, pairs, users, movies, peak) => {
  expect(trainingMb({ pairs, users, movies })).toBeGreaterThanOrEqual(peak);
  // and a budget sized by memoryNeededMb leaves the BUDGET_SHARE margin above it
  expect(memoryNeededMb({ pairs, users, movies }) * BUDGET_SHARE).toBeGreaterThanOrEqual(trainingMb({ pairs, users, movies }));
});

test('selection costs extra only up to the pairs the taste model selects on', () => {
  expect(SELECTED_PAIRS).toBe(TASTE_DEFAULTS.largeDataNnz);
  const at = (pairs: number) => trainingMb({ pairs, users: 0, movies: 0 });
  const perPairBelow = ((at(SELECTED_PAIRS) - at(SELECTED_PAIRS - 1_000_000)) * 2 ** 20) / 1_000_000;
  const perPairAbove = ((at(SELECTED_PAIRS + 1_000_000) - at(SELECTED_PAIRS)) * 2 ** 20) / 1_000_000;
  expect(perPairBelow).toBeCloseTo(TRAINING_FOOTPRINT.bytesPerPair + TRAINING_FOOTPRINT.bytesPerSelectedPair, 6);
  expect(perPairAbove).toBeCloseTo(TRAINING_FOOTPRINT.bytesPerPair, 6);
});

test.each([320, 3008, 10240])('maxPairsFor(%i MB) is the most pairs that fit: one more does not', (mb) => {
  const budget = lambdaMemoryBudget(mb, 'dev');
  const n = maxPairsFor(budget);
  expect(trainingMb({ pairs: n, users: 0, movies: 0 })).toBeLessThanOrEqual(mb * BUDGET_SHARE + 1e-6);
  expect(trainingMb({ pairs: n + 2, users: 0, movies: 0 })).toBeGreaterThan(mb * BUDGET_SHARE);
});
