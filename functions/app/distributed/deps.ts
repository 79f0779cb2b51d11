// What the distributed training's steps use. Workers get only the run store and the upload; the central
// and publish steps add the status item, the lease, the model tables and the report store.
import type { ModelVersions, ReportStore } from '../../ports';
import type { RunStore, TrainingLease, TrainingStarter, TrainingStatus, TrainingStatusStore, UploadReader } from '../../ports/training-run';
import type { PublishStore } from '../publish';
import type { Log } from '../upload';

export interface DistributedDeps {
  runs: RunStore;
  upload: UploadReader;
  status?: TrainingStatusStore;
  lease?: TrainingLease;
  /** the pre-check before anything is read (already published, stale) */
  versions?: Pick<ModelVersions, 'checkPublishable'>;
  /** the publish steps: the model tables */
  store?: PublishStore & Pick<ModelVersions, 'activeVersion'>;
  /** reports/ (the upload's rejection report, the version's training report) */
  reports?: ReportStore;
  /** continue-as-new */
  starter?: TrainingStarter;
  log?: Log;
  now?: () => number;
}

/** Best effort: the status is for people watching; a failure to write it never fails the training. */
export async function setStatus(deps: DistributedDeps, version: string, patch: Partial<TrainingStatus>): Promise<void> {
  if (!deps.status) return;
  try {
    await deps.status.update(version, { ...patch, updatedAt: new Date((deps.now ?? Date.now)()).toISOString() });
  } catch (e) {
    deps.log?.warn('could not update the training status', { version, error: (e as Error).message });
  }
}
