// Ports: what the handlers need from the outside world, with no AWS types. Adapters (functions/adapters/)
// implement them over S3 and DynamoDB; unit tests implement them in memory.
import type { ModelSnapshot, RankedList } from '../core/model';

/** The identity of one uploaded object, as an S3 event names it. */
export interface SourceRef {
  bucket: string;
  key: string;
  versionId?: string;
  /** ETag without quotes */
  etag?: string;
  /** S3 event sequencer (hex), orders events of the same key */
  sequencer?: string;
  /** ISO time of the event */
  eventTime?: string;
}

export interface OpenedObject {
  stream: NodeJS.ReadableStream;
  etag?: string;
  versionId?: string;
  lastModified?: string;
  contentLength?: number;
  metadata: Record<string, string>;
}

export interface RatingsSource {
  /** Stream one object version. Returns `null` when the object is gone or was overwritten since the event
   * (its ETag no longer matches): a newer event covers it. */
  open(ref: SourceRef): Promise<OpenedObject | null>;
}

export interface ReportStore {
  /** Write a JSON document at `key` (under reports/ or models/, prefixes that never trigger training). */
  putJson(key: string, doc: unknown): Promise<void>;
}

export interface ActivePointer {
  version: string;
  /** sortable order of the source object (newer sorts later) */
  sourceOrder: string;
  source: SourceRef;
  previous: string | null;
  activatedAt: string;
}

export interface ClusterMeta {
  id: number;
  size: number;
  /** number of ranked pages holding its list */
  pages: number;
  length: number;
}

export type VersionState = 'writing' | 'published' | 'refused' | 'expired';

export interface VersionMeta {
  version: string;
  state: VersionState;
  createdAt: string;
  publishedAt?: string;
  supersededAt?: string;
  source: SourceRef;
  sourceOrder: string;
  clusters: ClusterMeta[];
  popular: { pages: number; length: number };
  users: number;
  /** which recommender trained the version: 'seed' (absent in versions published before it was recorded) or
   * 'taste' (users carry a weighted mix of clusters) */
  algorithm?: 'seed' | 'taste';
  /** caller-provided summary (training parameters, data report, inertia, timings, report key) */
  summary: Record<string, unknown>;
}

export interface PublishStats {
  /** items written (all tables) */
  items: number;
  /** BatchWriteItem requests sent (including retries of unprocessed items) */
  batchRequests: number;
  /** unprocessed items re-sent */
  retriedItems: number;
  /** favourites folded in before the flip / replayed after it */
  favouritesFolded: number;
  favouritesReplayed: number;
  seconds: number;
}

export type PublishStatus = 'published' | 'already-published' | 'stale';

export interface PublishResult {
  status: PublishStatus;
  version: string;
  /** the version active after the call */
  active: string | null;
  stats?: PublishStats;
}

export interface UserRecord {
  userId: number;
  cluster: number;
  /** movies the version was trained with (ascending) */
  movies: number[];
  /** favourites added through the API while this version is active (ascending) */
  favourites: number[];
  /** taste model only: the user's weighted clusters (highest weight first); `cluster` is the primary one,
   * the one favourites count into */
  mix?: { clusters: number[]; weights: number[] };
}

/** A cluster's ranked list with favourites merged in, and its size (users) including users added since. */
export interface SizedList extends RankedList {
  id: number;
  size: number;
}

export interface FavouriteOutcome {
  userId: number;
  movieId: number;
  version: string;
  cluster: number;
  /** false when the user already had the movie: nothing was counted */
  added: boolean;
  /** the movie's count in the user's cluster after the call */
  count: number;
  newUser: boolean;
}

export interface MovieInfo {
  movieId: number;
  title: string;
  genres: string[];
}

export interface ModelStore {
  /** The active pointer; cached for a few seconds unless `fresh`. `null` before the first publish. */
  activeVersion(opts?: { fresh?: boolean }): Promise<ActivePointer | null>;
  versionMeta(version: string): Promise<VersionMeta | null>;
  /** Cheap pre-check before training: would publishing this version now be a no-op or refused? */
  checkPublishable(version: string, sourceOrder: string): Promise<'ok' | 'already-published' | 'stale'>;
  /** Write every item of the version, then flip the pointer with one conditional update. */
  publishVersion(
    snapshot: ModelSnapshot,
    version: string,
    source: SourceRef,
    opts: { sourceOrder: string; summary?: Record<string, unknown> },
  ): Promise<PublishResult>;
  getUser(version: string, userId: number, opts?: { consistent?: boolean }): Promise<UserRecord | null>;
  /** The cluster's ranked list in this version with the favourites counted so far merged in. */
  getClusterList(version: string, clusterId: number): Promise<RankedList>;
  getPopularList(version: string): Promise<RankedList>;
  /** Several clusters' lists (favourites merged, sizes) in the given order: the favourite counters of all of
   * them are read in one request (a taste user's mix). */
  getClusterLists(version: string, clusterIds: number[]): Promise<SizedList[]>;
  /** Record a favourite durably (version-independent); the first record of (user, movie) wins. */
  recordFavourite(userId: number, movieId: number, at: string): Promise<void>;
  /** Count a recorded favourite into one version (idempotent per user, movie and version). */
  applyFavourite(version: string, userId: number, movieId: number): Promise<FavouriteOutcome>;
  putMovies(movies: MovieInfo[], catalogueId: string): Promise<{ items: number }>;
  /** The movie catalogue (cached for a few minutes); empty when none was uploaded. */
  getMovies(): Promise<Map<number, MovieInfo>>;
}

/** Idempotency records for POSTs carrying an Idempotency-Key header. */
export interface IdempotencyStore {
  /** Claim the key for this request. `claimed` → go ahead; `done` → replay the stored response;
   * `in-progress` → another request with this key is running; `mismatch` → key reused with another request. */
  begin(
    key: string,
    requestHash: string,
  ): Promise<
    | { state: 'claimed' }
    | { state: 'done'; response: StoredResponse }
    | { state: 'in-progress' }
    | { state: 'mismatch' }
  >;
  complete(key: string, requestHash: string, response: StoredResponse): Promise<void>;
  /** Forget a claim after a failure so that a retry may run. */
  release(key: string): Promise<void>;
}

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

/** A user added more favourites to one version than the item bound allows (the API answers 409). */
export class FavouriteLimitError extends Error {
  readonly code = 'favourite_limit';
  constructor(limit: number) {
    super(`A user can add at most ${limit} favourites until the next model version; retrain to fold them in.`);
    this.name = 'FavouriteLimitError';
  }
}
