// In-memory fakes of the ports for handler unit tests: the ModelStore serves a core SeedModel directly.
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  addFavourite,
  clusterById,
  fromSnapshot,
  ModelSnapshot,
  RankedList,
  SeedModel,
  userIndex,
} from '../../functions/core/model';
import type { SizedList } from '../../functions/ports';
import type {
  ActivePointer,
  FavouriteOutcome,
  IdempotencyStore,
  ModelStore,
  MovieInfo,
  PublishResult,
  SourceRef,
  StoredResponse,
  UserRecord,
  VersionMeta,
} from '../../functions/ports';

export class FakeStore implements ModelStore {
  pointer: ActivePointer | null = null;
  model: SeedModel | null = null;
  snapshot: ModelSnapshot | null = null;
  movies = new Map<number, MovieInfo>();
  favourites: Array<{ userId: number; movieId: number; at: string }> = [];
  /** thrown by the next store call when set */
  failNext: Error | null = null;
  published: string[] = [];

  private check() {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
  }

  load(snapshot: ModelSnapshot, version = 'v1') {
    this.snapshot = structuredClone(snapshot);
    this.model = fromSnapshot(this.snapshot).model;
    this.pointer = { version, sourceOrder: '0', source: { bucket: 'b', key: 'uploads/r.csv' }, previous: null, activatedAt: '2026-01-01T00:00:00.000Z' };
  }

  async activeVersion() {
    this.check();
    return this.pointer;
  }
  async versionMeta(version: string): Promise<VersionMeta | null> {
    this.check();
    if (!this.model || version !== this.pointer?.version) return null;
    return {
      version,
      state: 'published',
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { bucket: 'b', key: 'uploads/r.csv' },
      sourceOrder: '0',
      clusters: this.model.clusters.map((c) => ({ id: c.id, size: c.size, pages: 1, length: c.movieIds.length })),
      popular: { pages: 1, length: this.model.popular.movieIds.length },
      users: this.model.userIds.length,
      summary: { k: 2 },
    };
  }
  async checkPublishable(): Promise<'ok'> {
    return 'ok';
  }
  async publishVersion(_s: ModelSnapshot, version: string, _src: SourceRef): Promise<PublishResult> {
    this.published.push(version);
    return { status: 'published', version, active: version };
  }
  async getUser(version: string, userId: number): Promise<UserRecord | null> {
    this.check();
    const m = this.model!;
    const i = userIndex(m, userId);
    if (i < 0) return null;
    return {
      userId,
      cluster: m.userCluster[i],
      movies: m.userMovies.slice(m.userMoviePtr[i], m.userMoviePtr[i + 1]),
      favourites: [],
      ...(m.mix
        ? { mix: { clusters: m.mix.clusters.slice(m.mix.ptr[i], m.mix.ptr[i + 1]), weights: m.mix.weights.slice(m.mix.ptr[i], m.mix.ptr[i + 1]) } }
        : {}),
    };
  }
  async getClusterList(_v: string, clusterId: number): Promise<RankedList> {
    this.check();
    return clusterById(this.model!, clusterId);
  }
  async getClusterLists(_v: string, clusterIds: number[]): Promise<SizedList[]> {
    this.check();
    return clusterIds.map((id) => clusterById(this.model!, id));
  }
  async getPopularList(): Promise<RankedList> {
    this.check();
    return this.model!.popular;
  }
  async recordFavourite(userId: number, movieId: number, at: string) {
    this.check();
    this.favourites.push({ userId, movieId, at });
  }
  async applyFavourite(version: string, userId: number, movieId: number): Promise<FavouriteOutcome> {
    this.check();
    const r = addFavourite(this.model!, userId, movieId);
    return { ...r, version };
  }
  async putMovies(movies: MovieInfo[]) {
    for (const m of movies) this.movies.set(m.movieId, m);
    return { items: movies.length };
  }
  async getMovies() {
    return this.movies;
  }
}

export class FakeIdempotency implements IdempotencyStore {
  records = new Map<string, { hash: string; done?: StoredResponse }>();
  async begin(key: string, hash: string) {
    const r = this.records.get(key);
    if (!r) {
      this.records.set(key, { hash });
      return { state: 'claimed' as const };
    }
    if (r.hash !== hash) return { state: 'mismatch' as const };
    if (r.done) return { state: 'done' as const, response: r.done };
    return { state: 'in-progress' as const };
  }
  async complete(key: string, hash: string, response: StoredResponse) {
    this.records.set(key, { hash, done: response });
  }
  async release(key: string) {
    if (!this.records.get(key)?.done) this.records.delete(key);
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
