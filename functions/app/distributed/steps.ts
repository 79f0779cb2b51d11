// Every step of the training state machine by name, grouped by the function that runs it (the state
// machine sends `step`): workers per partition or range, central steps, publish steps. A step that refuses
// the upload (InputError) first leaves the refusal for MarkFailed, then fails with Error "InputError",
// which the state machine does not retry.
import { InputError } from '../../core/types';
import { assignStep, converge, finishRestart, pickSeed, seedStart, trySeeds, updateCentres } from './cluster';
import { checkModel } from './check';
import type { DistributedDeps } from './deps';
import { continueAsNew, markFailed, recordRefusal } from './failed';
import { planRun } from './plan';
import { countClusters, fixClusters, placeUsers } from './post';
import { prepare, select } from './prepare';
import { flip, publishStart, publishUsers } from './publish';
import { buildIndex, buildShardStep, parseRange } from './shards';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each step has its own event type
type Step = (event: any, deps: DistributedDeps) => Promise<unknown>;

export const WORKER_STEPS: Record<string, Step> = {
  parseRange,
  buildShard: buildShardStep,
  trySeeds,
  assign: assignStep,
  updateCentres,
  countClusters,
  placeUsers,
};

export const CENTRAL_STEPS: Record<string, Step> = {
  plan: planRun,
  buildIndex,
  prepare,
  select,
  seedStart,
  pickSeed,
  converge,
  finishRestart,
  fixClusters,
  check: checkModel,
  markFailed,
  continueAsNew,
};

export const PUBLISH_STEPS: Record<string, Step> = { publishStart, publishUsers, flip };

export async function runStep(steps: Record<string, Step>, event: { step?: string; version?: string }, deps: DistributedDeps): Promise<unknown> {
  const fn = event.step ? steps[event.step] : undefined;
  if (!fn) throw new Error(`unknown step "${event.step}" (this function runs ${Object.keys(steps).join(', ')})`);
  try {
    return (await fn(event, deps)) ?? {};
  } catch (e) {
    if (e instanceof InputError && event.version) {
      await recordRefusal(deps, event.version, e);
      const refused = new Error(e.message);
      refused.name = 'InputError';
      throw refused;
    }
    throw e;
  }
}
