// Routing an upload past one function: when the upload is larger than the training function can hold (or
// the stage forces it), the S3-triggered function starts one execution of the training state machine
// instead of training in place. The execution is named after the model version, so a redelivered event
// never starts two. The upload's invocation holds the training lease (app/upload.ts) and hands it to the
// execution's name, which keeps it until the workflow's last step gives it back; a redelivery of the same
// version finds it held by that name and starts nothing.
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
  /** the holder this invocation took the lease as */
  handover?: string,
): Promise<{ executionArn: string; existing: boolean }> {
  const name = executionNameOf(version);
  const now = (route.now ?? Date.now)();
  // the invocation's own hold is handed over: given back, then taken by the execution's name (another upload
  // that takes it in between makes this one wait, as any busy lease does)
  if (route.lease && handover) await route.lease.release(handover);
  if (route.lease && !(await route.lease.acquire(name, now + (route.leaseSeconds ?? TRAINING_LEASE_SECONDS) * 1000))) {
    throw new TrainingBusyError(`another training holds the lease; ${source.key} will be trained when it is released (the event is retried)`);
  }
  // the status first: the execution's own steps update it from the moment it starts
  const at = new Date(now).toISOString();
  await route.status?.update(version, { version, key: source.key, mode: 'distributed', phase: 'starting', startedAt: at, updatedAt: at }, { create: true });
  const input = executionInput(version, source, sourceOrder, params, route.options);
  return route.starter.start(name, JSON.stringify(input));
}
