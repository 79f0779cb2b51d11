// Ports: what the use cases (functions/app/) need from the outside world, with no AWS types. Adapters
// (functions/adapters/) implement them over S3 and DynamoDB; unit tests implement them in memory.
// Idempotency of POSTs is Powertools' (its persistence layer is the port, functions/handlers/api.ts).
import type { ClusterModel } from '../core/model';
import type { RankedList } from '../core/ranked';
import type { SimilarIndex, SimilarItem } from '../core/similar';

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

/** Where batch exports go (exports/ in the bucket, a prefix that never triggers training). */
export interface ExportStore {
  readonly bucket: string;
  /** Stream text chunks, gzipped, to `key` as they are produced (memory independent of the total size);
   * returns the compressed bytes written. */
  putGzipText(key: string, chunks: Iterable<string> | AsyncIterable<string>, contentType: string): Promise<{ bytes: number }>;
  deleteObjects(keys: string[]): Promise<void>;
}

/** A version's batch export of every user's top-N (`exports/<version>/recommendations.csv.gz`). */
export interface ExportInfo {
  state: 'writing' | 'written' | 'failed';
  bucket: string;
  key: string;
  topN: number;
  startedAt: string;
  finishedAt?: string;
  users?: number;
  rows?: number;
  /** gzip bytes */
  bytes?: number;
  /** why it failed */
  message?: string;
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
  /** movies with a similar-movies item, and the manifest pages naming them (absent: published without them) */
  similar?: { movies: number; pages: number };
  /** the batch export of this version, when the stage writes one */
  export?: ExportInfo;
}

/** What a publish derives from the model for serving, beside the model itself. */
export interface VersionExtras {
  /** every listed movie's similar movies (core similarIndex) */
  similar?: SimilarIndex;
  /** cluster id → its typical movies (core typicalMovies), named in reasons */
  typical?: Map<number, number[]>;
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
  /** movies given a similar-movies item, and the seconds spent deriving them and the typical movies */
  similarMovies: number;
  extrasSeconds: number;
  seconds: number;
}

export type PublishStatus = 'published' | 'already-published' | 'stale';

export interface PublishResult {
  status: PublishStatus;
  version: string;
  /** the version active after the call */
  active: string | null;
  /** versions the publish deleted (nobody can roll back to them any more) */
  expired?: string[];
  stats?: PublishStats;
}

/** What writing a version's items and flipping the pointer did. */
export interface WriteResult {
  status: PublishStatus;
  /** the version active after the call */
  active: string | null;
  /** the version the flip replaced (published only) */
  previous?: string | null;
  /** items written (metadata included) and BatchWriteItem requests sent (retries of unprocessed items included) */
  items: number;
  batchRequests: number;
  retriedItems: number;
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
  /** CL-EASE model with recency: the user's newest movies when the version was trained, oldest first */
  recent?: number[];
  /** the favourites of this version in the order they were added (absent on items written before the
   * order was kept: then `favourites`' ascending order stands in) */
  favouritesInOrder?: number[];
}

/** A cluster's ranked list with favourites merged in, and its size (users) including users added since. */
export interface SizedList extends RankedList {
  id: number;
  size: number;
  /** CL-EASE versions: the local EASE matrix over the cluster's published movies, their live counts, and
   * the version's serving settings (the same on every cluster of a version) */
  local?: { movieIds: number[]; counts: number[]; b: Float32Array };
  scoring?: { beta: number; halfLife: number };
}

/** A favourite as recorded, version-independent. */
export interface FavouriteRecord {
  userId: number;
  movieId: number;
  /** ISO time of the first record of (user, movie) */
  at: string;
}

export interface MovieInfo {
  movieId: number;
  title: string;
  genres: string[];
}

/** Model versions: the active pointer, each version's metadata, and the writes of the publish protocol. */
export interface ModelVersions {
  /** The active pointer; cached for a few seconds unless `fresh`. `null` before the first publish. */
  activeVersion(opts?: { fresh?: boolean }): Promise<ActivePointer | null>;
  versionMeta(version: string, opts?: { fresh?: boolean }): Promise<VersionMeta | null>;
  /** Would publishing this version now be a no-op (already published) or refused (a newer source is live)? */
  checkPublishable(version: string, sourceOrder: string): Promise<'ok' | 'already-published' | 'stale'>;
  /** The version's metadata (state `writing`) and every item, then one conditional update of the pointer;
   * on success the version is `published` and the one it replaced `supersededAt`. */
  writeVersion(
    model: ClusterModel,
    version: string,
    source: SourceRef,
    opts: { sourceOrder: string; summary?: Record<string, unknown>; extras?: VersionExtras },
  ): Promise<WriteResult>;
  /** Record the state of the version's batch export in its metadata. */
  recordExport(version: string, info: ExportInfo): Promise<void>;
  /** Delete every version but `active` and `previous` (orphans of crashed publishes after a grace period);
   * returns the versions deleted. */
  cleanup(active: string, previous: string | null | undefined): Promise<string[]>;
}

/** Users of a version, as the API reads and extends them. */
export interface UserStore {
  /** favourites a user may add to one version (bounds the user item) */
  readonly favouriteLimit: number;
  getUser(version: string, userId: number, opts?: { consistent?: boolean }): Promise<UserRecord | null>;
  /** Create a user the version did not know, holding one favourite, in `cluster` (a taste version: with the
   * mix [(cluster, 1)]). False when the user exists already (created concurrently). */
  createUser(version: string, userId: number, cluster: number, movieId: number, opts: { taste: boolean }): Promise<boolean>;
  /** Claim (user, movie) in this version: true the first time, false when it was claimed before. */
  claimFavourite(version: string, userId: number, movieId: number): Promise<boolean>;
}

/** Cluster lists: immutable base lists per version plus the favourite counters counted into them. */
export interface ClusterLists {
  /** The cluster's ranked list in this version with the favourites counted so far merged in. */
  getClusterList(version: string, clusterId: number): Promise<RankedList>;
  getPopularList(version: string): Promise<RankedList>;
  /** Several clusters' lists (favourites merged, sizes) in the given order, their counters read in one
   * request (a taste user's mix). */
  getClusterLists(version: string, clusterIds: number[]): Promise<SizedList[]>;
  /** Each cluster's typical movies (core typicalMovies, stored with its list; undefined in versions published
   * without them). Kept with the cached base list: no request when the list was just read. */
  getTypical(version: string, clusterIds: number[]): Promise<Array<number[] | undefined>>;
  /** For each cluster: does its list (base or favourite counters) hold the movie? */
  listsHolding(version: string, clusterIds: number[], movieId: number): Promise<boolean[]>;
  /** Count one favourite into the cluster's and the popular counters (and one more user into the cluster's
   * size when `newUser`); returns the movie's count in the cluster afterwards. */
  countFavourite(version: string, clusterId: number, movieId: number, opts: { newUser: boolean }): Promise<number>;
  /** The movie's count in the cluster now (base list plus favourites). */
  movieCount(version: string, clusterId: number, movieId: number): Promise<number>;
}

/** The durable, version-independent record of every favourite (folded into each new version). */
export interface FavouriteLog {
  /** The first record of (user, movie) wins. */
  recordFavourite(userId: number, movieId: number, at: string): Promise<void>;
  /** Every record, in recorded order (time, then user, then movie); from `since` (ISO) when given. */
  listFavourites(opts?: { since?: string }): Promise<FavouriteRecord[]>;
}

/** The movie catalogue (titles and genres from movies.csv), version-independent. */
export interface Catalogue {
  putMovies(movies: MovieInfo[], catalogueId: string): Promise<{ items: number }>;
  /** Cached for a few minutes; empty when none was uploaded. */
  getMovies(): Promise<Map<number, MovieInfo>>;
}

/** One training at a time, across every Lambda instance: a lease with an expiry, so a holder that dies
 * (a timeout, a crash) cannot hold it forever. */
export interface TrainingLease {
  /** Take the lease for `holder` until `untilMs` (epoch ms) unless someone else holds an unexpired one; true
   * when taken (or already ours). */
  acquire(holder: string, untilMs: number): Promise<boolean>;
  /** Give it back (only if still ours). */
  release(holder: string): Promise<void>;
  /** Who holds an unexpired lease (null: free). The router uses it to see that the state machine already
   * trains this very version. */
  holder?(): Promise<string | null>;
}

/** Each version's similar movies, one item per movie. */
export interface SimilarStore {
  /** The movie's stored similar movies (best first); null when the version has none for it. */
  getSimilar(version: string, movieId: number): Promise<SimilarItem[] | null>;
}

/** Everything the use cases need from the model tables. */
export interface ModelStore extends ModelVersions, UserStore, ClusterLists, FavouriteLog, Catalogue, SimilarStore {}
