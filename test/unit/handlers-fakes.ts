// In-memory fakes of the ports for handler and use-case unit tests: a ModelStore over a core ClusterModel's
// lists and users (each favourite counted with core's own incrementRanked), and a Powertools persistence
// layer over a Map.
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import { fromSnapshot, ModelSnapshot } from '../../functions/core/snapshot';
import { incrementRanked, type RankedList } from '../../functions/core/ranked';
import { typicalMovies } from '../../functions/core/explain';
import { similarIndex, type SimilarIndex, type SimilarItem } from '../../functions/core/similar';
import type {
  ActivePointer,
  ExportInfo,
  FavouriteRecord,
  ModelStore,
  MovieInfo,
  SizedList,
  UserRecord,
  VersionMeta,
  WriteResult,
} from '../../functions/ports';

interface FakeUser {
  cluster: number;
  movies: number[];
  favourites: Set<number>;
  mix?: { clusters: number[]; weights: number[] };
}

export class FakeStore implements ModelStore {
  readonly favouriteLimit = 5000;
  pointer: ActivePointer | null = null;
  snapshot: ModelSnapshot | null = null;
  users = new Map<number, FakeUser>();
  lists = new Map<number, SizedList>();
  popular: RankedList = { movieIds: [], counts: [] };
  movies = new Map<number, MovieInfo>();
  favourites: FavouriteRecord[] = [];
  /** thrown by the next store call when set */
  failNext: Error | null = null;
  published: string[] = [];
  similar: SimilarIndex | null = null;
  typical = new Map<number, number[]>();
  exports = new Map<string, ExportInfo>();

  private check() {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
  }

  load(snapshot: ModelSnapshot, version = 'v1') {
    this.snapshot = structuredClone(snapshot);
    const m = fromSnapshot(structuredClone(snapshot)).model;
    this.users.clear();
    m.userIds.forEach((u, i) => {
      this.users.set(u, {
        cluster: m.userCluster[i],
        movies: m.userMovies.slice(m.userMoviePtr[i], m.userMoviePtr[i + 1]),
        favourites: new Set(),
        ...(m.mix ? { mix: { clusters: m.mix.clusters.slice(m.mix.ptr[i], m.mix.ptr[i + 1]), weights: m.mix.weights.slice(m.mix.ptr[i], m.mix.ptr[i + 1]) } } : {}),
      });
    });
    // what a publish derives from the model (core), as the DynamoDB store serves it
    this.typical = typicalMovies(m);
    this.similar = similarIndex(m);
    this.lists = new Map(m.clusters.map((c) => [c.id, { id: c.id, size: c.size, movieIds: c.movieIds, counts: c.counts }]));
    this.popular = m.popular;
    this.pointer = { version, sourceOrder: '0', source: { bucket: 'b', key: 'uploads/r.csv' }, previous: null, activatedAt: '2026-01-01T00:00:00.000Z' };
  }

  private list(id: number): SizedList {
    const l = this.lists.get(id);
    if (!l) throw new Error(`no cluster ${id}`);
    return l;
  }

  async activeVersion() {
    this.check();
    return this.pointer;
  }
  async versionMeta(version: string): Promise<VersionMeta | null> {
    this.check();
    if (!this.snapshot || version !== this.pointer?.version) return null;
    return {
      version,
      state: 'published',
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { bucket: 'b', key: 'uploads/r.csv' },
      sourceOrder: '0',
      clusters: [...this.lists.values()].map((c) => ({ id: c.id, size: c.size, pages: 1, length: c.movieIds.length })),
      popular: { pages: 1, length: this.popular.movieIds.length },
      users: this.users.size,
      algorithm: this.snapshot.users.mix ? 'taste' : 'seed',
      summary: { k: 2 },
      ...(this.exports.has(version) ? { export: this.exports.get(version) } : {}),
    };
  }
  async recordExport(version: string, info: ExportInfo): Promise<void> {
    this.exports.set(version, info);
  }
  async getSimilar(_v: string, movieId: number): Promise<SimilarItem[] | null> {
    this.check();
    const s = this.similar;
    const i = s ? s.movieIds.indexOf(movieId) : -1;
    if (!s || i < 0) return null;
    return s.neighbours.slice(s.ptr[i], s.ptr[i + 1]).map((m, j) => ({ movieId: m, score: s.scores[s.ptr[i] + j] }));
  }
  async checkPublishable(): Promise<'ok'> {
    return 'ok';
  }
  async writeVersion(_m: unknown, version: string): Promise<WriteResult> {
    this.published.push(version);
    return { status: 'published', active: version, previous: null, items: 0, batchRequests: 0, retriedItems: 0 };
  }
  async cleanup(): Promise<string[]> {
    return [];
  }
  async getUser(_version: string, userId: number): Promise<UserRecord | null> {
    this.check();
    const u = this.users.get(userId);
    if (!u) return null;
    return {
      userId,
      cluster: u.cluster,
      movies: u.movies,
      favourites: [...u.favourites].sort((a, b) => a - b),
      ...(u.mix ? { mix: u.mix } : {}),
    };
  }
  async createUser(_v: string, userId: number, cluster: number, movieId: number, opts: { taste: boolean }): Promise<boolean> {
    this.check();
    if (this.users.has(userId)) return false;
    this.users.set(userId, { cluster, movies: [], favourites: new Set([movieId]), ...(opts.taste ? { mix: { clusters: [cluster], weights: [1] } } : {}) });
    return true;
  }
  async claimFavourite(_v: string, userId: number, movieId: number): Promise<boolean> {
    this.check();
    const u = this.users.get(userId)!;
    if (u.favourites.has(movieId)) return false;
    u.favourites.add(movieId);
    return true;
  }
  async getClusterList(_v: string, clusterId: number): Promise<RankedList> {
    this.check();
    return this.list(clusterId);
  }
  async getClusterLists(_v: string, clusterIds: number[]): Promise<SizedList[]> {
    this.check();
    return clusterIds.map((id) => this.list(id));
  }
  async getTypical(_v: string, clusterIds: number[]): Promise<Array<number[] | undefined>> {
    return clusterIds.map((id) => this.typical.get(id));
  }
  async getPopularList(): Promise<RankedList> {
    this.check();
    return this.popular;
  }
  async listsHolding(_v: string, clusterIds: number[], movieId: number): Promise<boolean[]> {
    this.check();
    return clusterIds.map((id) => this.list(id).movieIds.includes(movieId));
  }
  async countFavourite(_v: string, clusterId: number, movieId: number, opts: { newUser: boolean }): Promise<number> {
    this.check();
    const l = this.list(clusterId);
    if (opts.newUser) l.size++;
    incrementRanked(this.popular, movieId);
    return incrementRanked(l, movieId);
  }
  async movieCount(_v: string, clusterId: number, movieId: number): Promise<number> {
    this.check();
    const l = this.list(clusterId);
    const i = l.movieIds.indexOf(movieId);
    return i < 0 ? 0 : l.counts[i];
  }
  async recordFavourite(userId: number, movieId: number, at: string) {
    this.check();
    if (!this.favourites.some((f) => f.userId === userId && f.movieId === movieId)) this.favourites.push({ userId, movieId, at });
  }
  async listFavourites(opts: { since?: string } = {}): Promise<FavouriteRecord[]> {
    return this.favourites.filter((f) => opts.since === undefined || f.at >= opts.since);
  }
  async putMovies(movies: MovieInfo[]) {
    for (const m of movies) this.movies.set(m.movieId, m);
    return { items: movies.length };
  }
  async getMovies() {
    return this.movies;
  }
}

/** Powertools' persistence layer over a Map: its conditional put refuses a live record as DynamoDB's does. */
export class MemoryIdempotency extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();

  protected async _getRecord(key: string): Promise<IdempotencyRecord> {
    const r = this.records.get(key);
    if (!r) throw new IdempotencyItemNotFoundError();
    return r;
  }
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const old = this.records.get(record.idempotencyKey);
    const inProgressExpired = old?.getStatus() === 'INPROGRESS' && old.inProgressExpiryTimestamp !== undefined && old.inProgressExpiryTimestamp < Date.now();
    if (old && !old.isExpired() && !inProgressExpired) throw new IdempotencyItemAlreadyExistsError(`record ${record.idempotencyKey} exists`, old);
    this.records.set(record.idempotencyKey, record);
  }
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

export const silentLogger = () => new Logger({ serviceName: 'test', logLevel: 'SILENT' });
export const quietMetrics = () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const quiet = () => undefined;
  return new Metrics({
    namespace: 'test',
    serviceName: 'test',
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
};

export function apiEvent(
  method: string,
  path: string,
  opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: string } = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    headers: opts.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: opts.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
  };
}

export const lambdaContext = {
  functionName: 'api',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:api',
  functionVersion: '1',
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 10000,
} as unknown as Context;
