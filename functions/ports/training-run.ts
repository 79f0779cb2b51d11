// Ports of the distributed training (functions/app/distributed): the run's intermediate objects, ranged
// reads of the upload, the training status the API shows, the single-flight lease, and starting an
// execution of the training state machine. No AWS types: adapters in functions/adapters (S3, DynamoDB,
// Step Functions), in-memory ones in the tests, the local executor in local/.
import type { ClusterList, ClusterModel } from '../core/model';
import type { RankedList } from '../core/ranked';
import type { SourceRef, VersionExtras, WriteResult } from './index';

/** Intermediate objects of training runs (S3 `runs/<version>/…`; keys are full keys). */
export interface RunStore {
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** the whole object; throws when it does not exist */
  get(key: string): Promise<Uint8Array>;
  /** bytes [start, end) */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
}

/** The uploaded object, read in byte ranges (a parse worker reads one range of a file of any size). */
export interface UploadReader {
  /** size and ETag of the object version, or null when it is gone (or was overwritten, unversioned) */
  head(ref: SourceRef): Promise<{ size: number; etag?: string } | null>;
  /** bytes [start, end) of that exact object version */
  range(ref: SourceRef, start: number, end: number): Promise<Uint8Array>;
  /** the same, as a stream */
  stream(ref: SourceRef, start: number, end: number): Promise<NodeJS.ReadableStream>;
}

export type TrainingPhase =
  | 'starting'
  | 'planning'
  | 'parsing'
  | 'indexing'
  | 'sharding'
  | 'preparing'
  | 'selecting'
  | 'seeding'
  | 'clustering'
  | 'counting'
  | 'local-matrices'
  | 'placing'
  | 'checking'
  | 'publishing'
  | 'published'
  | 'rejected'
  | 'skipped'
  | 'failed';

/** What the API shows of the training in progress (or the last one): one item, updated by the central steps. */
export interface TrainingStatus {
  version: string;
  /** the upload it trains */
  key: string;
  mode: 'distributed';
  phase: TrainingPhase;
  partitions?: number;
  /** clustering j of jobs, restart r of nInit, iteration, k-means++ centre */
  job?: number;
  jobs?: number;
  restart?: number;
  iteration?: number;
  maxIter?: number;
  round?: number;
  k?: number;
  inertia?: number;
  error?: string;
  startedAt: string;
  updatedAt: string;
}

export interface TrainingStatusStore {
  get(): Promise<TrainingStatus | null>;
  /** merges `patch` into the status of `version` (creating it with `startedAt` when `create`) */
  update(version: string, patch: Partial<TrainingStatus>, opts?: { create?: boolean }): Promise<void>;
}

/**
 * One training at a time. The distributed path takes the lease when the router starts an execution and
 * gives it back in the workflow's last step (published, skipped, rejected or failed). `holder` names the
 * execution, so a redelivered upload event re-enters its own lease.
 */
/** The one training lease (ports/index.ts), shared with the single-function training. */
export type { TrainingLease } from './index';

/** Starts one execution of the training state machine; the name makes it idempotent. */
export interface TrainingStarter {
  /** `existing`: an execution of this name had been started before (same input while running, or closed) */
  start(name: string, input: string): Promise<{ executionArn: string; existing: boolean }>;
}

/** A version's lists and size, all its metadata needs (the users are written by partition). */
export interface VersionLists {
  clusters: readonly ClusterList[];
  popular: RankedList;
  users: number;
  taste: boolean;
  /** the default model's serving settings (written with each list's local matrix) */
  scoring?: ClusterModel['scoring'];
  /** similar movies and typical movies, as the single path's publish writes them */
  extras?: VersionExtras;
}

/** The publish protocol in parts (ModelVersions.writeVersion, split): the metadata item `writing` and the
 * lists once, each partition's users (and their manifest page) from its own function, then the one flip. */
export interface PartitionedPublish {
  /** false: the version was already published (nothing written) */
  startVersion(lists: VersionLists, version: string, source: SourceRef, opts: { sourceOrder: string; summary?: Record<string, unknown> }): Promise<{ started: boolean; items: number }>;
  /** `users` holds only this part's users; `part` keeps its manifest pages apart from other parts' */
  writeUsers(users: ClusterModel, version: string, part: string): Promise<{ items: number; requests: number }>;
  finishVersion(version: string, source: SourceRef, sourceOrder: string): Promise<WriteResult>;
}
