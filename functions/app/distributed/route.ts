// Routing an upload past one function: when the upload is larger than the training function can hold (or
// the stage forces it), the S3-triggered function starts one execution of the training state machine
// instead of training in place. The execution is named after the model version, so a redelivered event
// never starts two; the lease is taken first (by that name, so a redelivery re-enters it) and given back
// by the workflow's last step.
import type { TrainOverrides } from '../../core/train';
import type { SourceRef } from '../../ports';
import type { TrainingLease, TrainingStarter, TrainingStatusStore } from '../../ports/training-run';
import { executionNameOf, type TrainingMode } from '../../shared/resources';
import type { ExecutionInput, RunOptions } from './state';

export interface DistributedRoute {
  mode: TrainingMode;
  starter: TrainingStarter;
  lease?: TrainingLease;
  status?: TrainingStatusStore;
  /** 'auto': uploads above this many bytes are distributed (default: the function's own bound) */
  aboveBytes?: number;
  options?: RunOptions;
  /** how long the lease may be held before another training may take it (the state machine's timeout) */
  leaseSeconds?: number;
  now?: () => number;
}

/** How long the router's lease lasts unless released: the state machine's execution timeout (a test holds
 * the synthesized timeout to it), so a training that dies without its last step frees the lease with it. */
export const TRAINING_LEASE_SECONDS = 12 * 3600;

/** Raised when another training holds the lease: the upload event is retried later (Lambda's retries). */
export class TrainingBusyError extends Error {
  override name = 'TrainingBusy';
}

/** Train here, or start the state machine? `bound` is the most this function trains in place. */
export function shouldDistribute(route: Pick<DistributedRoute, 'mode' | 'aboveBytes'> | undefined, size: number | undefined, bound: number | undefined): boolean {
  if (!route || route.mode === 'single') return false;
  if (route.mode === 'distributed') return true;
  const limit = route.aboveBytes ?? bound;
  return limit !== undefined && size !== undefined && size > limit;
}

/** The canonical execution input of an upload (fixed key order, nothing time-dependent). */
export function executionInput(version: string, source: SourceRef, sourceOrder: string, params: TrainOverrides, options: RunOptions = {}): ExecutionInput {
  const src: SourceRef = { bucket: source.bucket, key: source.key };
  if (source.versionId) src.versionId = source.versionId;
  if (source.etag) src.etag = source.etag;
  if (source.sequencer) src.sequencer = source.sequencer;
  if (source.eventTime) src.eventTime = source.eventTime;
  return { version, source: src, sourceOrder, params, options };
}

export async function startDistributed(
  route: DistributedRoute,
  version: string,
  source: SourceRef,
  sourceOrder: string,
  params: TrainOverrides,
): Promise<{ executionArn: string; existing: boolean }> {
  const name = executionNameOf(version);
  if (route.lease && !(await route.lease.acquire(name, route.leaseSeconds ?? TRAINING_LEASE_SECONDS))) {
    throw new TrainingBusyError(`another training holds the lease; ${source.key} will be trained when it is released (the event is retried)`);
  }
  // the status first: the execution's own steps update it from the moment it starts
  const at = new Date((route.now ?? Date.now)()).toISOString();
  await route.status?.update(version, { version, key: source.key, mode: 'distributed', phase: 'starting', startedAt: at, updatedAt: at }, { create: true });
  const input = executionInput(version, source, sourceOrder, params, route.options);
  return route.starter.start(name, JSON.stringify(input));
}
