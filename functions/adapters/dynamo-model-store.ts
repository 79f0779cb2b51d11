// ModelStore over DynamoDB (lib-dynamodb). Layout in dynamo-layout.ts; the publish protocol, the read path
// (≤ 2 reads per recommendation on a warm Lambda) and the favourite rules are in docs/ARCHITECTURE.md.
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  addFavourite as coreAddFavourite,
  fromSnapshot,
  ModelSnapshot,
  RankedList,
  SeedModel,
} from '../core/model';
import type { SizedList } from '../ports';
import { FavouriteLimitError } from '../ports';
import type {
  ActivePointer,
  ClusterMeta,
  FavouriteOutcome,
  IdempotencyStore,
  ModelStore,
  MovieInfo,
  PublishResult,
  PublishStats,
  SourceRef,
  StoredResponse,
  UserRecord,
  VersionMeta,
} from '../ports';
import { isConditionalFailure } from './aws';
import { batchGet } from './batch-reader';
import { batchWrite, BatchWriteOptions, BatchWriteStats, WriteRequest } from './batch-writer';
import {
  DELTA_SHARDS,
  estimateItemBytes,
  FAV_SHARDS,
  FULL_SHARD_BYTES,
  keys,
  MANIFEST_PAGE_USERS,
  MOVIES_PAGE_SIZE,
  packAscending,
  packFloats,
  packInts,
  PAGE_SIZE,
  unpackAscending,
  unpackFloats,
  unpackInts,
  USER_SHARD_MOVIES,
} from './dynamo-layout';
import { mergeDeltas } from './ranked-merge';

export { FavouriteLimitError };

export interface DynamoModelStoreConfig {
  doc: DynamoDBDocumentClient;
  usersTable: string;
  clustersTable: string;
  /** how long the active pointer is cached (default 5 s; 0 = read it every time) */
  pointerTtlMs?: number;
  /** how long the movie catalogue is cached (default 5 min) */
  moviesTtlMs?: number;
  /** ranked base lists kept in memory (default 512 (version, cluster) lists: a taste model has ~160) */
  listCacheSize?: number;
  /** ... and at most this many list entries in all (default 1,000,000: long seed lists) */
  listCacheEntries?: number;
  batch?: BatchWriteOptions;
  /** favourites recorded up to this long before the fold are replayed again after the flip (clock skew; 5 min) */
  replayMarginMs?: number;
  /** a version still `writing` this long is an orphan (crashed publish) and may be deleted (default 1 h) */
  orphanGraceMs?: number;
  /** how long expired versions' metadata stays (TTL; default 30 days) */
  expiredMetaTtlDays?: number;
  /** favourites a user may add to one version (bounds the user item; default 5000) */
  maxFavouritesPerVersion?: number;
  now?: () => number;
}


interface CachedList {
  list: RankedList;
  countOf: Map<number, number>;
  /** users in the cluster at publish time (page 0's `s`; absent for the popular list and older versions) */
  size?: number;
}

interface FavRecord {
  userId: number;
  movieId: number;
  at: string;
}

export class DynamoModelStore implements ModelStore {
  /** requests sent, by command name (for measurements and tests) */
  readonly calls: Record<string, number> = {};
  private pointerCache: { value: ActivePointer | null; at: number } | null = null;
  private readonly metaCache = new Map<string, VersionMeta>();
  private readonly listCache = new Map<string, CachedList>();
  private listCacheEntries = 0;
  private moviesCache: { value: Map<number, MovieInfo>; at: number } | null = null;
  private readonly now: () => number;

  constructor(private readonly cfg: DynamoModelStoreConfig) {
    this.now = cfg.now ?? Date.now;
  }

  /** Total read requests (GetItem + Query + BatchGetItem) sent so far. */
  get reads(): number {
    return (this.calls.GetCommand ?? 0) + (this.calls.QueryCommand ?? 0) + (this.calls.BatchGetCommand ?? 0);
  }

  private send<T>(cmd: GetCommand | PutCommand | QueryCommand | UpdateCommand | DeleteCommand): Promise<T> {
    // instanceof rather than constructor.name: bundling minifies class names
    const name =
      cmd instanceof GetCommand
        ? 'GetCommand'
        : cmd instanceof QueryCommand
          ? 'QueryCommand'
          : cmd instanceof PutCommand
            ? 'PutCommand'
            : cmd instanceof UpdateCommand
              ? 'UpdateCommand'
              : 'DeleteCommand';
    this.calls[name] = (this.calls[name] ?? 0) + 1;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return this.cfg.doc.send(cmd as any) as Promise<T>;
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.send<{ Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }>(
        new QueryCommand({ ...input, ExclusiveStartKey: start }),
      );
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private queryPk(table: string, pk: string, consistent = false) {
    return this.queryAll({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: consistent,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // pointer and metadata

  async activeVersion(opts: { fresh?: boolean } = {}): Promise<ActivePointer | null> {
    const ttl = this.cfg.pointerTtlMs ?? 5000;
    if (!opts.fresh && this.pointerCache && this.now() - this.pointerCache.at < ttl) return this.pointerCache.value;
    const res = await this.send<{ Item?: Record<string, unknown> }>(
      new GetCommand({ TableName: this.cfg.clustersTable, Key: keys.pointer(), ConsistentRead: true }),
    );
    const value = res.Item
      ? {
          version: res.Item.version as string,
          sourceOrder: res.Item.sourceOrder as string,
          source: res.Item.source as SourceRef,
          previous: (res.Item.previous as string | undefined) ?? null,
          activatedAt: res.Item.activatedAt as string,
        }
      : null;
    this.pointerCache = { value, at: this.now() };
    return value;
  }

  async versionMeta(version: string, opts: { fresh?: boolean } = {}): Promise<VersionMeta | null> {
    const cached = this.metaCache.get(version);
    if (cached && !opts.fresh) return cached;
    const res = await this.send<{ Item?: Record<string, unknown> }>(
      new GetCommand({ TableName: this.cfg.clustersTable, Key: keys.meta(version), ConsistentRead: true }),
    );
    if (!res.Item) return null;
    const { pk: _pk, sk: _sk, expiresAt: _e, ...meta } = res.Item;
    const m = meta as unknown as VersionMeta;
    // cluster layout never changes once published, so cache it (state may; callers needing it pass fresh)
    if (m.state === 'published') this.metaCache.set(version, m);
    return m;
  }

  async checkPublishable(version: string, sourceOrder: string): Promise<'ok' | 'already-published' | 'stale'> {
    const ptr = await this.activeVersion({ fresh: true });
    if (ptr?.version === version) return 'already-published';
    const meta = await this.versionMeta(version, { fresh: true });
    if (meta && (meta.state === 'published' || meta.state === 'expired')) return 'already-published';
    if (ptr && ptr.sourceOrder > sourceOrder) return 'stale';
    return 'ok';
  }

  // ---------------------------------------------------------------------------------------------
  // publish

  async publishVersion(
    snapshot: ModelSnapshot,
    version: string,
    source: SourceRef,
    opts: { sourceOrder: string; summary?: Record<string, unknown> },
  ): Promise<PublishResult> {
    const t0 = this.now();
    const pre = await this.checkPublishable(version, opts.sourceOrder);
    if (pre !== 'ok') {
      return { status: pre, version, active: (await this.activeVersion())?.version ?? null };
    }

    // 1. fold every favourite recorded so far into the new model (core semantics, in recorded order)
    const foldStartedAt = this.now();
    const { model } = fromSnapshot(structuredClone(snapshot), `model version ${version}`);
    const favourites = await this.listFavourites();
    for (const f of favourites) coreAddFavourite(model, f.userId, f.movieId);

    // 2. metadata first (state writing), then every item of the version
    const meta = this.buildMeta(model, version, source, opts);
    try {
      await this.send(
        new PutCommand({
          TableName: this.cfg.clustersTable,
          Item: { ...keys.meta(version), ...meta },
          ConditionExpression: 'attribute_not_exists(pk) OR #s = :writing OR #s = :refused',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':writing': 'writing', ':refused': 'refused' },
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return { status: 'already-published', version, active: (await this.activeVersion({ fresh: true }))?.version ?? null };
    }
    const stats: BatchWriteStats = { items: 0, requests: 0, retriedItems: 0 };
    await Promise.all([
      batchWrite(this.cfg.doc, this.cfg.clustersTable, this.clusterItems(model, version), this.cfg.batch, stats),
      batchWrite(this.cfg.doc, this.cfg.usersTable, this.userItems(model, version), this.cfg.batch, stats),
    ]);
    this.calls.BatchWriteCommand = (this.calls.BatchWriteCommand ?? 0) + stats.requests;

    // 3. one conditional update flips the pointer
    const flip = await this.flipPointer(version, source, opts.sourceOrder);
    if (flip.status !== 'published') {
      if (flip.status === 'stale') await this.setState(version, 'refused');
      return { status: flip.status, version, active: flip.active };
    }
    const publishedAt = new Date(this.now()).toISOString();
    await this.setState(version, 'published', { publishedAt });
    if (flip.previous) await this.setState(flip.previous, 'published', { supersededAt: publishedAt });

    // 4. replay favourites recorded while we were writing (they were counted into the old version)
    const since = new Date(foldStartedAt - (this.cfg.replayMarginMs ?? 300_000)).toISOString();
    const late = (await this.listFavourites()).filter((f) => f.at >= since);
    for (const f of late) await this.applyFavourite(version, f.userId, f.movieId);

    // 5. delete versions older than the rollback one, and orphans of crashed publishes
    await this.cleanup(version, flip.previous);

    const publishStats: PublishStats = {
      items: stats.items + 1,
      batchRequests: stats.requests,
      retriedItems: stats.retriedItems,
      favouritesFolded: favourites.length,
      favouritesReplayed: late.length,
      seconds: (this.now() - t0) / 1000,
    };
    return { status: 'published', version, active: version, stats: publishStats };
  }

  private async flipPointer(
    version: string,
    source: SourceRef,
    sourceOrder: string,
  ): Promise<{ status: 'published' | 'already-published' | 'stale'; active: string | null; previous?: string | null }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ptr = await this.activeVersion({ fresh: true });
      if (ptr?.version === version) return { status: 'already-published', active: version };
      if (ptr && ptr.sourceOrder > sourceOrder) return { status: 'stale', active: ptr.version };
      const activatedAt = new Date(this.now()).toISOString();
      try {
        await this.send(
          new UpdateCommand({
            TableName: this.cfg.clustersTable,
            Key: keys.pointer(),
            UpdateExpression: 'SET #v = :v, sourceOrder = :o, #src = :src, previous = :prev, activatedAt = :at',
            ConditionExpression: ptr ? '#v = :prev AND sourceOrder <= :o' : 'attribute_not_exists(pk)',
            ExpressionAttributeNames: { '#v': 'version', '#src': 'source' },
            ExpressionAttributeValues: {
              ':v': version,
              ':o': sourceOrder,
              ':src': source,
              ':prev': ptr?.version ?? null,
              ':at': activatedAt,
            },
          }),
        );
        this.pointerCache = {
          value: { version, sourceOrder, source, previous: ptr?.version ?? null, activatedAt },
          at: this.now(),
        };
        return { status: 'published', active: version, previous: ptr?.version ?? null };
      } catch (e) {
        if (!isConditionalFailure(e)) throw e;
        // someone flipped between our read and our write: re-read and decide again
      }
    }
    throw new Error(`Could not flip the active pointer to ${version}: it kept changing under us.`);
  }

  private async setState(version: string, state: VersionMeta['state'], extra: Record<string, unknown> = {}) {
    const names: Record<string, string> = { '#s': 'state' };
    const values: Record<string, unknown> = { ':s': state };
    const sets = ['#s = :s'];
    for (const [k, v] of Object.entries(extra)) {
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    await this.send(
      new UpdateCommand({
        TableName: this.cfg.clustersTable,
        Key: keys.meta(version),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ).catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
    this.metaCache.delete(version);
  }

  private buildMeta(
    model: SeedModel,
    version: string,
    source: SourceRef,
    opts: { sourceOrder: string; summary?: Record<string, unknown> },
  ): VersionMeta {
    const clusters: ClusterMeta[] = model.clusters.map((c) => ({
      id: c.id,
      size: c.size,
      length: c.movieIds.length,
      pages: Math.ceil(c.movieIds.length / PAGE_SIZE),
    }));
    return {
      version,
      state: 'writing',
      createdAt: new Date(this.now()).toISOString(),
      source,
      sourceOrder: opts.sourceOrder,
      clusters,
      popular: { length: model.popular.movieIds.length, pages: Math.ceil(model.popular.movieIds.length / PAGE_SIZE) },
      users: model.userIds.length,
      algorithm: model.mix ? 'taste' : 'seed',
      summary: opts.summary ?? {},
    };
  }

  private clusterItems(model: SeedModel, version: string): WriteRequest[] {
    const out: WriteRequest[] = [];
    const pages = (pk: string, list: RankedList, size?: number) => {
      for (let p = 0; p * PAGE_SIZE < list.movieIds.length; p++) {
        const from = p * PAGE_SIZE;
        const to = Math.min(list.movieIds.length, from + PAGE_SIZE);
        const item: Record<string, unknown> = { pk, sk: keys.page(p), m: packInts(list.movieIds, from, to), n: packInts(list.counts, from, to) };
        if (p === 0 && size !== undefined) item.s = size; // cached with the list: taste scores divide by it
        out.push({ PutRequest: { Item: item } });
      }
    };
    for (const c of model.clusters) pages(keys.clusterPk(version, c.id), c, c.size);
    pages(keys.popularPk(version), model.popular);
    // manifest: the version's user ids (with their shard count when > 1), to delete the version later
    for (let p = 0; p * MANIFEST_PAGE_USERS < model.userIds.length; p++) {
      const ids: string[] = [];
      for (let i = p * MANIFEST_PAGE_USERS; i < Math.min(model.userIds.length, (p + 1) * MANIFEST_PAGE_USERS); i++) {
        const shards = Math.max(1, Math.ceil((model.userMoviePtr[i + 1] - model.userMoviePtr[i]) / USER_SHARD_MOVIES));
        ids.push(shards > 1 ? `${model.userIds[i].toString(36)}:${shards}` : model.userIds[i].toString(36));
      }
      out.push({ PutRequest: { Item: { pk: keys.manifestPk(version), sk: `u#${keys.page(p)}`, u: ids.join(',') } } });
    }
    return out;
  }

  private userItems(model: SeedModel, version: string): WriteRequest[] {
    const out: WriteRequest[] = [];
    for (let i = 0; i < model.userIds.length; i++) {
      const start = model.userMoviePtr[i];
      const end = model.userMoviePtr[i + 1];
      const shards = Math.max(1, Math.ceil((end - start) / USER_SHARD_MOVIES));
      const pk = keys.userPk(version, model.userIds[i]);
      for (let s = 0; s < shards; s++) {
        const from = start + s * USER_SHARD_MOVIES;
        const to = Math.min(end, from + USER_SHARD_MOVIES);
        const item: Record<string, unknown> = { pk, sk: keys.userSk(s), m: packAscending(model.userMovies, from, to) };
        if (s === 0) Object.assign(item, { c: model.userCluster[i], n: shards });
        if (s === 0 && model.mix) {
          const { ptr, clusters, weights } = model.mix;
          Object.assign(item, {
            x: packInts(clusters, ptr[i], ptr[i + 1]),
            w: packFloats(weights.slice(ptr[i], ptr[i + 1])),
          });
        }
        out.push({ PutRequest: { Item: item } });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // cleanup: versions other than the active and the rollback one are deleted, orphans after a grace period

  async cleanup(active: string, previous: string | null | undefined): Promise<string[]> {
    const metas = (
      await this.queryAll({
        TableName: this.cfg.clustersTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':pk': 'model', ':v': 'v#' },
        ConsistentRead: true,
      })
    ).map((i) => i as unknown as VersionMeta);
    const expired: string[] = [];
    for (const m of metas) {
      if (m.version === active || m.version === previous || m.state === 'expired') continue;
      const age = this.now() - Date.parse(m.createdAt);
      if (m.state === 'writing' && age < (this.cfg.orphanGraceMs ?? 3_600_000)) continue;
      await this.deleteVersionItems(m);
      await this.setState(m.version, 'expired', {
        expiresAt: Math.floor(this.now() / 1000) + 86400 * (this.cfg.expiredMetaTtlDays ?? 30),
      });
      expired.push(m.version);
    }
    return expired;
  }

  private async deleteVersionItems(m: VersionMeta): Promise<void> {
    const v = m.version;
    const clusterKeys: Record<string, unknown>[] = [];
    const userKeys: Record<string, unknown>[] = [];
    const pageKeys = (pk: string, pages: number) => {
      for (let p = 0; p < pages; p++) clusterKeys.push({ pk, sk: keys.page(p) });
    };
    for (const c of m.clusters) pageKeys(keys.clusterPk(v, c.id), c.pages);
    pageKeys(keys.popularPk(v), m.popular.pages);
    for (const c of [...m.clusters.map((x) => x.id as number | 'pop'), 'pop' as const]) {
      // every counter item that exists (shards and overflow items), whatever shard count wrote them
      const counters = await this.queryAll({
        TableName: this.cfg.clustersTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.deltaPk(v, c) },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      });
      for (const item of counters) clusterKeys.push({ pk: item.pk, sk: item.sk });
    }
    for (const item of await this.queryPk(this.cfg.clustersTable, keys.manifestPk(v), true)) {
      clusterKeys.push({ pk: item.pk, sk: item.sk });
      if (typeof item.u === 'string' && item.u) {
        for (const entry of item.u.split(',')) {
          const [id, shards] = entry.split(':');
          const userId = parseInt(id, 36);
          for (let s = 0; s < (shards ? Number(shards) : 1); s++) {
            userKeys.push({ pk: keys.userPk(v, userId), sk: keys.userSk(s) });
          }
        }
      } else if (typeof item.userId === 'number') {
        userKeys.push({ pk: keys.userPk(v, item.userId), sk: keys.userSk(0) });
      }
    }
    const del = (ks: Record<string, unknown>[]): WriteRequest[] => ks.map((Key) => ({ DeleteRequest: { Key } }));
    await batchWrite(this.cfg.doc, this.cfg.usersTable, del(userKeys), this.cfg.batch);
    await batchWrite(this.cfg.doc, this.cfg.clustersTable, del(clusterKeys), this.cfg.batch);
  }

  // ---------------------------------------------------------------------------------------------
  // read path

  /**
   * One GetItem of the user's head item (its cluster, mix, favourites and first USER_SHARD_MOVIES movies),
   * the same point read as the serving floor; only a user with more movies than that (head.n > 1 parts)
   * costs a Query of the partition as well.
   */
  async getUser(version: string, userId: number, opts: { consistent?: boolean } = {}): Promise<UserRecord | null> {
    const pk = keys.userPk(version, userId);
    const res = await this.send<{ Item?: Record<string, unknown> }>(
      new GetCommand({ TableName: this.cfg.usersTable, Key: { pk, sk: keys.userSk(0) }, ConsistentRead: opts.consistent }),
    );
    const head = res.Item;
    if (!head) return null;
    // almost every user is one item: its decoded list is used as is, without a copy
    const movies = unpackAscending(head.m as string);
    if (typeof head.n === 'number' && head.n > 1) {
      const rest = (await this.queryPk(this.cfg.usersTable, pk, opts.consistent)).filter((it) => it.sk !== head.sk);
      rest.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
      for (const it of rest) for (const m of unpackAscending(it.m as string)) movies.push(m);
    }
    const f = head.f as Set<number> | undefined;
    const user: UserRecord = {
      userId,
      cluster: head.c as number,
      movies,
      favourites: f ? [...f].map(Number).sort((a, b) => a - b) : [],
    };
    if (typeof head.x === 'string') user.mix = { clusters: unpackInts(head.x), weights: unpackFloats(head.w as string) };
    return user;
  }

  private async baseList(version: string, pk: string): Promise<CachedList> {
    const cacheKey = pk;
    const hit = this.listCache.get(cacheKey);
    if (hit) {
      // refresh LRU position
      this.listCache.delete(cacheKey);
      this.listCache.set(cacheKey, hit);
      return hit;
    }
    const items = await this.queryPk(this.cfg.clustersTable, pk);
    items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    const movieIds: number[] = [];
    const counts: number[] = [];
    for (const it of items) {
      for (const m of unpackInts(it.m as string)) movieIds.push(m);
      for (const n of unpackInts(it.n as string)) counts.push(n);
    }
    const countOf = new Map<number, number>();
    for (let i = 0; i < movieIds.length; i++) countOf.set(movieIds[i], counts[i]);
    const entry: CachedList = { list: { movieIds, counts }, countOf };
    if (typeof items[0]?.s === 'number') entry.size = items[0].s;
    this.listCache.set(cacheKey, entry);
    this.listCacheEntries += movieIds.length;
    const max = this.cfg.listCacheSize ?? 512;
    const maxEntries = this.cfg.listCacheEntries ?? 1_000_000;
    while (this.listCache.size > 1 && (this.listCache.size > max || this.listCacheEntries > maxEntries)) {
      const [oldest, old] = this.listCache.entries().next().value!;
      this.listCache.delete(oldest);
      this.listCacheEntries -= old.list.movieIds.length;
    }
    return entry;
  }

  private async deltas(version: string, cluster: number | 'pop'): Promise<Map<number, number>> {
    // shard items s#<n> and, for movies whose shard was full, overflow items o#<movie>: a movie may be in both
    return sumCounters(await this.queryPk(this.cfg.clustersTable, keys.deltaPk(version, cluster))).deltas;
  }

  /**
   * A taste user's clusters: base lists from the in-memory cache (one Query each only when cold) and the
   * favourite counters of ALL of them in one BatchGetItem (clusters × DELTA_SHARDS keys). A counter item that
   * may be full (some movies then live in overflow items no BatchGetItem can name) sends that one cluster to
   * a Query of its counter partition instead.
   */
  async getClusterLists(version: string, clusterIds: number[]): Promise<SizedList[]> {
    const ids = [...new Set(clusterIds)];
    const counterKeys = ids.flatMap((c) =>
      Array.from({ length: DELTA_SHARDS }, (_, s) => ({ pk: keys.deltaPk(version, c), sk: `s#${s}` })),
    );
    const [bases, items] = await Promise.all([
      Promise.all(ids.map((c) => this.baseList(version, keys.clusterPk(version, c)))),
      batchGet(this.cfg.doc, this.cfg.clustersTable, counterKeys, { onRequest: () => this.count1('BatchGetCommand') }),
    ]);
    const byPk = new Map<string, Record<string, unknown>[]>();
    for (const it of items) {
      const pk = it.pk as string;
      if (!byPk.has(pk)) byPk.set(pk, []);
      byPk.get(pk)!.push(it);
    }
    const merged = await Promise.all(
      ids.map(async (c, j) => {
        let own = byPk.get(keys.deltaPk(version, c)) ?? [];
        if (own.some((it) => estimateItemBytes(it) >= FULL_SHARD_BYTES)) {
          own = await this.queryPk(this.cfg.clustersTable, keys.deltaPk(version, c));
        }
        const { deltas, sizeDelta } = sumCounters(own);
        const base = bases[j];
        if (base.size === undefined) throw new Error(`cluster ${c} of model version ${version} has no stored size`);
        return { id: c, size: base.size + sizeDelta, ...mergeDeltas(base.list, deltas) };
      }),
    );
    const at = new Map(ids.map((c, j) => [c, merged[j]]));
    return clusterIds.map((c) => at.get(c)!);
  }

  private count1(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  /** A movie's favourite count in one counter partition (its shard item plus its overflow item), read consistently. */
  private async deltaOf(version: string, cluster: number | 'pop', movieId: number): Promise<number> {
    const attr = keys.deltaAttr(movieId);
    const get = (sk: string) =>
      this.send<{ Item?: Record<string, unknown> }>(
        new GetCommand({
          TableName: this.cfg.clustersTable,
          Key: { pk: keys.deltaPk(version, cluster), sk },
          ConsistentRead: true,
          ProjectionExpression: '#m',
          ExpressionAttributeNames: { '#m': attr },
        }),
      );
    const [shard, overflow] = await Promise.all([get(keys.deltaSk(movieId)), get(keys.deltaOverflowSk(movieId))]);
    return ((shard.Item?.[attr] as number | undefined) ?? 0) + ((overflow.Item?.[attr] as number | undefined) ?? 0);
  }

  async getClusterList(version: string, clusterId: number): Promise<RankedList> {
    const [base, d] = await Promise.all([
      this.baseList(version, keys.clusterPk(version, clusterId)),
      this.deltas(version, clusterId),
    ]);
    return mergeDeltas(base.list, d);
  }

  async getPopularList(version: string): Promise<RankedList> {
    const [base, d] = await Promise.all([
      this.baseList(version, keys.popularPk(version)),
      this.deltas(version, 'pop'),
    ]);
    return mergeDeltas(base.list, d);
  }

  // ---------------------------------------------------------------------------------------------
  // favourites

  async recordFavourite(userId: number, movieId: number, at: string): Promise<void> {
    try {
      await this.send(
        new PutCommand({
          TableName: this.cfg.usersTable,
          Item: { ...keys.fav(userId, movieId), userId, movieId, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e; // already recorded: the first record (and its time) wins
    }
  }

  /** Every recorded favourite, in recorded order (time, then user, then movie). */
  async listFavourites(): Promise<FavRecord[]> {
    const shards = await Promise.all(
      Array.from({ length: FAV_SHARDS }, (_, s) => this.queryPk(this.cfg.usersTable, keys.favPk(s), true)),
    );
    const out = shards.flat().map((i) => ({ userId: i.userId as number, movieId: i.movieId as number, at: i.at as string }));
    out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.userId - b.userId || a.movieId - b.movieId));
    return out;
  }

  async applyFavourite(version: string, userId: number, movieId: number): Promise<FavouriteOutcome> {
    const meta = await this.versionMeta(version);
    if (!meta) throw new Error(`model version ${version} has no metadata`);
    let user = await this.getUser(version, userId, { consistent: true });
    const result = (cluster: number, added: boolean, count: number, newUser: boolean): FavouriteOutcome => ({
      userId,
      movieId,
      version,
      cluster,
      added,
      count,
      newUser,
    });

    if (!user) {
      const cluster = await this.placeNewUser(version, meta, movieId);
      try {
        await this.send(
          new PutCommand({
            TableName: this.cfg.usersTable,
            Item: {
              pk: keys.userPk(version, userId),
              sk: keys.userSk(0),
              c: cluster,
              n: 1,
              m: '',
              f: new Set([movieId]),
              // taste model: a new user's mix is the one cluster it was placed in (core addFavourite)
              ...(meta.algorithm === 'taste' ? { x: packInts([cluster]), w: packFloats([1]) } : {}),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        await this.send(
          new PutCommand({
            TableName: this.cfg.clustersTable,
            Item: { pk: keys.manifestPk(version), sk: `new#${userId}`, userId },
          }),
        );
        return result(cluster, true, await this.count(version, cluster, movieId, true), true);
      } catch (e) {
        if (!isConditionalFailure(e)) throw e;
        user = await this.getUser(version, userId, { consistent: true }); // created concurrently
        if (!user) throw new Error(`user ${userId} vanished while adding a favourite`);
      }
    }

    const has = (xs: number[]) => binaryHas(xs, movieId);
    if (has(user.movies) || has(user.favourites)) {
      return result(user.cluster, false, await this.currentCount(version, user.cluster, movieId), false);
    }
    const limit = this.cfg.maxFavouritesPerVersion ?? 5000;
    if (user.favourites.length >= limit) throw new FavouriteLimitError(limit);
    try {
      await this.send(
        new UpdateCommand({
          TableName: this.cfg.usersTable,
          Key: { pk: keys.userPk(version, userId), sk: keys.userSk(0) },
          UpdateExpression: 'ADD f :s',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(f) OR NOT contains(f, :m))',
          ExpressionAttributeValues: { ':s': new Set([movieId]), ':m': movieId },
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      // a concurrent request for the same (user, movie) won: it counts, we do not
      return result(user.cluster, false, await this.currentCount(version, user.cluster, movieId), false);
    }
    return result(user.cluster, true, await this.count(version, user.cluster, movieId), false);
  }

  /** Count the movie once into the cluster's and the popular counters; returns the cluster count after. */
  private async count(version: string, cluster: number, movieId: number, newUser = false): Promise<number> {
    const attr = keys.deltaAttr(movieId);
    // a user created by the API joins the cluster: its size +1 in the same atomic update (core addFavourite)
    const withSize = (c: number | 'pop') => newUser && c !== 'pop';
    const addTo = (c: number | 'pop', sk: string) =>
      this.send<{ Attributes?: Record<string, number> }>(
        new UpdateCommand({
          TableName: this.cfg.clustersTable,
          Key: { pk: keys.deltaPk(version, c), sk },
          UpdateExpression: withSize(c) ? 'ADD #m :one, #sz :one' : 'ADD #m :one',
          ExpressionAttributeNames: withSize(c) ? { '#m': attr, '#sz': keys.sizeDeltaAttr() } : { '#m': attr },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    // the movie's delta in this partition after the ADD; a full shard item (400 KB: ~20k distinct movies) sends
    // the ADD to the movie's own overflow item instead, so a favourite is never refused for size
    const add = async (c: number | 'pop'): Promise<number> => {
      try {
        return (await addTo(c, keys.deltaSk(movieId))).Attributes?.[attr] ?? 0;
      } catch (e) {
        if (!isItemTooLarge(e)) throw e;
        await addTo(c, keys.deltaOverflowSk(movieId));
        return this.deltaOf(version, c, movieId);
      }
    };
    const [delta, , base] = await Promise.all([
      add(cluster),
      add('pop'),
      this.baseList(version, keys.clusterPk(version, cluster)),
    ]);
    return (base.countOf.get(movieId) ?? 0) + delta;
  }

  private async currentCount(version: string, cluster: number, movieId: number): Promise<number> {
    const [delta, base] = await Promise.all([
      this.deltaOf(version, cluster, movieId),
      this.baseList(version, keys.clusterPk(version, cluster)),
    ]);
    return (base.countOf.get(movieId) ?? 0) + delta;
  }

  /** core placeUser for a one-movie user: the lowest cluster id whose list holds the movie (base list or a
   * favourite counted in this version), else the lowest cluster id. */
  private async placeNewUser(version: string, meta: VersionMeta, movieId: number): Promise<number> {
    const ids = meta.clusters.map((c) => c.id).sort((a, b) => a - b);
    const bases = await Promise.all(ids.map((id) => this.baseList(version, keys.clusterPk(version, id))));
    const firstBase = ids.findIndex((_, i) => bases[i].countOf.has(movieId));
    const candidates = firstBase < 0 ? ids : ids.slice(0, firstBase);
    const hits = await Promise.all(candidates.map(async (c) => (await this.deltaOf(version, c, movieId)) > 0));
    const viaDelta = hits.indexOf(true);
    if (viaDelta >= 0) return candidates[viaDelta];
    return firstBase >= 0 ? ids[firstBase] : ids[0];
  }

  // ---------------------------------------------------------------------------------------------
  // movie catalogue

  async putMovies(movies: MovieInfo[], catalogueId: string): Promise<{ items: number }> {
    const sorted = [...movies].sort((a, b) => a.movieId - b.movieId);
    const pk = keys.moviesPk(catalogueId);
    const puts: WriteRequest[] = [];
    for (let p = 0; p * MOVIES_PAGE_SIZE < sorted.length; p++) {
      const page = sorted.slice(p * MOVIES_PAGE_SIZE, (p + 1) * MOVIES_PAGE_SIZE);
      puts.push({
        PutRequest: {
          Item: { pk, sk: keys.page(p), d: JSON.stringify(page.map((m) => [m.movieId, m.title.slice(0, 500), m.genres])) },
        },
      });
    }
    const stats = await batchWrite(this.cfg.doc, this.cfg.clustersTable, puts, this.cfg.batch);
    const prev = await this.send<{ Attributes?: Record<string, unknown> }>(
      new PutCommand({
        TableName: this.cfg.clustersTable,
        Item: { ...keys.moviesPointer(), catalogue: catalogueId, movies: sorted.length, updatedAt: new Date(this.now()).toISOString() },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = prev.Attributes?.catalogue as string | undefined;
    if (old && old !== catalogueId) {
      const oldItems = await this.queryPk(this.cfg.clustersTable, keys.moviesPk(old), true);
      await batchWrite(
        this.cfg.doc,
        this.cfg.clustersTable,
        oldItems.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })),
        this.cfg.batch,
      );
    }
    this.moviesCache = null;
    return { items: stats.items + 1 };
  }

  async getMovies(): Promise<Map<number, MovieInfo>> {
    const ttl = this.cfg.moviesTtlMs ?? 300_000;
    if (this.moviesCache && this.now() - this.moviesCache.at < ttl) return this.moviesCache.value;
    const ptr = await this.send<{ Item?: Record<string, unknown> }>(
      new GetCommand({ TableName: this.cfg.clustersTable, Key: keys.moviesPointer() }),
    );
    const value = new Map<number, MovieInfo>();
    if (ptr.Item?.catalogue) {
      for (const it of await this.queryPk(this.cfg.clustersTable, keys.moviesPk(ptr.Item.catalogue as string))) {
        for (const [movieId, title, genres] of JSON.parse(it.d as string) as [number, string, string[]][]) {
          value.set(movieId, { movieId, title, genres });
        }
      }
    }
    this.moviesCache = { value, at: this.now() };
    return value;
  }
}

/** DynamoDB's (and dynalite's) refusal of a write that would make an item exceed 400 KB. */
function isItemTooLarge(e: unknown): boolean {
  const err = e as { name?: string; message?: string } | null;
  return err?.name === 'ValidationException' && /maximum allowed size/.test(err.message ?? '');
}

/** Sum counter items of one partition: movie counters `m<id>` (a movie may be in its shard and its overflow
 * item) and the size delta `sz`. */
function sumCounters(items: Record<string, unknown>[]): { deltas: Map<number, number>; sizeDelta: number } {
  const deltas = new Map<number, number>();
  let sizeDelta = 0;
  const sz = keys.sizeDeltaAttr();
  for (const it of items) {
    for (const [k, v] of Object.entries(it)) {
      if (typeof v !== 'number') continue;
      if (k === sz) sizeDelta += v;
      else if (k.startsWith('m')) {
        const id = Number(k.slice(1));
        deltas.set(id, (deltas.get(id) ?? 0) + v);
      }
    }
  }
  return { deltas, sizeDelta };
}

function binaryHas(xs: number[], x: number): boolean {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] === x) return true;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

// -------------------------------------------------------------------------------------------------
// idempotency records (users table, TTL 24 h)

export interface DynamoIdempotencyConfig {
  doc: DynamoDBDocumentClient;
  table: string;
  /** how long a claim blocks other requests with the same key before a retry may take over (default 30 s) */
  lockMs?: number;
  /** how long a completed response is replayed (default 24 h) */
  ttlSeconds?: number;
  now?: () => number;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  private readonly now: () => number;
  constructor(private readonly cfg: DynamoIdempotencyConfig) {
    this.now = cfg.now ?? Date.now;
  }

  async begin(key: string, requestHash: string) {
    const now = this.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.cfg.doc.send(
          new PutCommand({
            TableName: this.cfg.table,
            Item: {
              ...keys.idem(key),
              status: 'in_progress',
              hash: requestHash,
              lockUntil: now + (this.cfg.lockMs ?? 30_000),
              expiresAt: Math.floor(now / 1000) + (this.cfg.ttlSeconds ?? 86400),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR (#s = :p AND lockUntil < :now)',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':p': 'in_progress', ':now': now },
          }),
        );
        return { state: 'claimed' as const };
      } catch (e) {
        if (!isConditionalFailure(e)) throw e;
      }
      const res = await this.cfg.doc.send(new GetCommand({ TableName: this.cfg.table, Key: keys.idem(key), ConsistentRead: true }));
      const item = res.Item;
      if (!item) continue; // released in between: try to claim again
      if (item.hash !== requestHash) return { state: 'mismatch' as const };
      if (item.status === 'done') return { state: 'done' as const, response: item.response as StoredResponse };
      return { state: 'in-progress' as const };
    }
    return { state: 'in-progress' as const };
  }

  async complete(key: string, requestHash: string, response: StoredResponse): Promise<void> {
    await this.cfg.doc.send(
      new PutCommand({
        TableName: this.cfg.table,
        Item: {
          ...keys.idem(key),
          status: 'done',
          hash: requestHash,
          response,
          expiresAt: Math.floor(this.now() / 1000) + (this.cfg.ttlSeconds ?? 86400),
        },
      }),
    );
  }

  async release(key: string): Promise<void> {
    await this.cfg.doc
      .send(
        new DeleteCommand({
          TableName: this.cfg.table,
          Key: keys.idem(key),
          ConditionExpression: '#s = :p',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':p': 'in_progress' },
        }),
      )
      .catch((e) => {
        if (!isConditionalFailure(e)) throw e;
      });
  }
}
