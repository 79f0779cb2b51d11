// Runs the distributed training's steps in the order the state machine does, in one process with in-memory
// ports — for the unit tests of the arithmetic only. The state machine itself (the definition from the
// synthesized template) is exercised by test/integration/distributed-training.test.ts.
import { planRun } from '../../functions/app/distributed/plan';
import { buildIndex, buildShardStep, parseRange } from '../../functions/app/distributed/shards';
import { prepare, select } from '../../functions/app/distributed/prepare';
import { assignStep, converge, finishRestart, pickSeed, seedStart, trySeeds, updateCentres } from '../../functions/app/distributed/cluster';
import type { DistributedDeps } from '../../functions/app/distributed/deps';
import type { ExecutionInput, Loop } from '../../functions/app/distributed/state';

export async function runClustering(input: ExecutionInput, deps: DistributedDeps): Promise<Loop> {
  const v = input.version;
  const plan = await planRun(input, deps);
  if (plan.skip) throw new Error(`skipped: ${plan.reason}`);
  for (const r of plan.ranges) await parseRange({ step: 'parse', version: v, item: r }, deps);
  await buildIndex({ step: 'index', version: v }, deps);
  for (const q of plan.partitions) await buildShardStep({ step: 'shard', version: v, item: q }, deps);
  let loop = await prepare({ step: 'prepare', version: v }, deps);
  if (loop.next === 'select') loop = await select({ step: 'select', version: v }, deps);
  for (;;) {
    loop = await seedStart({ step: 'seedStart', version: v, loop }, deps);
    while (loop.next === 'trial') {
      for (const q of plan.partitions) await trySeeds({ step: 'trySeeds', version: v, item: q, loop }, deps);
      loop = await pickSeed({ step: 'pickSeed', version: v, loop }, deps);
    }
    for (;;) {
      for (const q of plan.partitions) await assignStep({ step: 'assign', version: v, item: q, loop }, deps);
      if (loop.final) break;
      for (const r of plan.columnRanges) await updateCentres({ step: 'update', version: v, item: r, loop }, deps);
      loop = await converge({ step: 'converge', version: v, loop }, deps);
      if (loop.next === 'finish') break;
    }
    loop = await finishRestart({ step: 'finishRestart', version: v, loop }, deps);
    if (loop.next !== 'seed') return loop;
  }
}
