// Cluster lists in the clusters table: each version's immutable ranked base lists (cached in memory per
// version and cluster, LRU) and the favourite counters the API adds to them (UpdateItem ADD, sharded by
// movieId mod DELTA_SHARDS, with a per-movie overflow item once a shard item is full). A read merges the two
// with core mergeDeltas; the read path's budget (≤ 2 requests per recommendation) is in docs/ARCHITECTURE.md.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mergeDeltas, type RankedList } from '../../core/ranked';
import type { ClusterLists, SizedList } from '../../ports';
import { batchGet } from './batch-reader';
import type { DynamoContext, Item } from './context';
import { DELTA_SHARDS, estimateItemBytes, FULL_SHARD_BYTES, keys, unpackInts } from './layout';

export interface ListsConfig {
  /** ranked base lists kept in memory (default 512 (version, cluster) lists: a taste model has ~160) */
  listCacheSize?: number;
  /** ... and at most this many list entries in all (default 1,000,000: long seed lists) */
  listCacheEntries?: number;
}

interface CachedList {
  list: RankedList;
  countOf: Map<number, number>;
  /** users in the cluster at publish time (page 0's `s`; absent for the popular list and older versions) */
  size?: number;
  /** the cluster's typical movies (page 0's `t`; absent for the popular list and older versions) */
  typical?: number[];
}

type Partition = number | 'pop';

export class DynamoLists implements ClusterLists {
  private readonly cache = new Map<string, CachedList>();
  private cachedEntries = 0;

  constructor(
    private readonly db: DynamoContext,
    private readonly cfg: ListsConfig = {},
  ) {}

  async getClusterList(version: string, clusterId: number): Promise<RankedList> {
    const [base, d] = await Promise.all([this.baseList(keys.clusterPk(version, clusterId)), this.deltas(version, clusterId)]);
    return mergeDeltas(base.list, d);
  }

  async getTypical(version: string, clusterIds: number[]): Promise<Array<number[] | undefined>> {
    return (await Promise.all(clusterIds.map((c) => this.baseList(keys.clusterPk(version, c))))).map((b) => b.typical);
  }

  async getPopularList(version: string): Promise<RankedList> {
    const [base, d] = await Promise.all([this.baseList(keys.popularPk(version)), this.deltas(version, 'pop')]);
    return mergeDeltas(base.list, d);
  }

  /**
   * A taste user's clusters: base lists from the in-memory cache (one Query each only when cold) and the
   * favourite counters of ALL of them in one BatchGetItem (clusters × DELTA_SHARDS keys). A counter item that
   * may be full (some movies then live in overflow items no BatchGetItem can name) sends that one cluster to
   * a Query of its counter partition instead.
   */
  async getClusterLists(version: string, clusterIds: number[]): Promise<SizedList[]> {
    const ids = [...new Set(clusterIds)];
    const counterKeys = ids.flatMap((c) => Array.from({ length: DELTA_SHARDS }, (_, s) => ({ pk: keys.deltaPk(version, c), sk: `s#${s}` })));
    const [bases, items] = await Promise.all([
      Promise.all(ids.map((c) => this.baseList(keys.clusterPk(version, c)))),
      batchGet(this.db.doc, this.db.clustersTable, counterKeys, { onRequest: () => this.db.count('BatchGetCommand') }),
    ]);
    const byPk = new Map<string, Item[]>();
    for (const it of items) {
      const pk = it.pk as string;
      if (!byPk.has(pk)) byPk.set(pk, []);
      byPk.get(pk)!.push(it);
    }
    const merged = await Promise.all(
      ids.map(async (c, j) => {
        let own = byPk.get(keys.deltaPk(version, c)) ?? [];
        if (own.some((it) => estimateItemBytes(it) >= FULL_SHARD_BYTES)) own = await this.db.queryPk(this.db.clustersTable, keys.deltaPk(version, c));
        const { deltas, sizeDelta } = sumCounters(own);
        const base = bases[j];
        if (base.size === undefined) throw new Error(`cluster ${c} of model version ${version} has no stored size`);
        return { id: c, size: base.size + sizeDelta, ...mergeDeltas(base.list, deltas) };
      }),
    );
    const at = new Map(ids.map((c, j) => [c, merged[j]]));
    return clusterIds.map((c) => at.get(c)!);
  }

  /** Base lists from the cache; the movie's counters (shard and overflow item) of every cluster whose base
   * list lacks it in one consistent BatchGetItem per 50 clusters, sent in parallel. */
  async listsHolding(version: string, clusterIds: number[], movieId: number): Promise<boolean[]> {
    const bases = await Promise.all(clusterIds.map((id) => this.baseList(keys.clusterPk(version, id))));
    const holds = bases.map((b) => b.countOf.has(movieId));
    const lacking = clusterIds.filter((_, j) => !holds[j]);
    if (lacking.length === 0) return holds;
    const attr = keys.deltaAttr(movieId);
    const counterKeys = lacking.flatMap((c) => [keys.deltaSk(movieId), keys.deltaOverflowSk(movieId)].map((sk) => ({ pk: keys.deltaPk(version, c), sk })));
    const items = await batchGet(this.db.doc, this.db.clustersTable, counterKeys, {
      consistent: true,
      projection: { expression: 'pk, #m', names: { '#m': attr } },
      onRequest: () => this.db.count('BatchGetCommand'),
    });
    const counted = new Set(items.filter((it) => typeof it[attr] === 'number' && (it[attr] as number) > 0).map((it) => it.pk as string));
    return clusterIds.map((c, j) => holds[j] || counted.has(keys.deltaPk(version, c)));
  }

  async countFavourite(version: string, clusterId: number, movieId: number, opts: { newUser: boolean }): Promise<number> {
    const attr = keys.deltaAttr(movieId);
    // a user created by the API joins the cluster: its size +1 in the same atomic update
    const withSize = (c: Partition) => opts.newUser && c !== 'pop';
    const addTo = (c: Partition, sk: string) =>
      this.db.send<{ Attributes?: Record<string, number> }>(
        new UpdateCommand({
          TableName: this.db.clustersTable,
          Key: { pk: keys.deltaPk(version, c), sk },
          UpdateExpression: withSize(c) ? 'ADD #m :one, #sz :one' : 'ADD #m :one',
          ExpressionAttributeNames: withSize(c) ? { '#m': attr, '#sz': keys.sizeDeltaAttr() } : { '#m': attr },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    // the movie's delta in this partition after the ADD; a full shard item (400 KB: ~20k distinct movies) sends
    // the ADD to the movie's own overflow item instead, so a favourite is never refused for size
    const add = async (c: Partition): Promise<number> => {
      try {
        return (await addTo(c, keys.deltaSk(movieId))).Attributes?.[attr] ?? 0;
      } catch (e) {
        if (!isItemTooLarge(e)) throw e;
        await addTo(c, keys.deltaOverflowSk(movieId));
        return this.deltaOf(version, c, movieId);
      }
    };
    const [delta, , base] = await Promise.all([add(clusterId), add('pop'), this.baseList(keys.clusterPk(version, clusterId))]);
    return (base.countOf.get(movieId) ?? 0) + delta;
  }

  async movieCount(version: string, clusterId: number, movieId: number): Promise<number> {
    const [delta, base] = await Promise.all([this.deltaOf(version, clusterId, movieId), this.baseList(keys.clusterPk(version, clusterId))]);
    return (base.countOf.get(movieId) ?? 0) + delta;
  }

  /** A movie's favourite count in one counter partition (its shard item plus its overflow item), read consistently. */
  private async deltaOf(version: string, c: Partition, movieId: number): Promise<number> {
    const attr = keys.deltaAttr(movieId);
    const get = (sk: string) =>
      this.db.get(this.db.clustersTable, { pk: keys.deltaPk(version, c), sk }, { consistent: true, projection: '#m', names: { '#m': attr } });
    const [shard, overflow] = await Promise.all([get(keys.deltaSk(movieId)), get(keys.deltaOverflowSk(movieId))]);
    return ((shard?.[attr] as number | undefined) ?? 0) + ((overflow?.[attr] as number | undefined) ?? 0);
  }

  private async deltas(version: string, c: Partition): Promise<Map<number, number>> {
    // shard items s#<n> and, for movies whose shard was full, overflow items o#<movie>: a movie may be in both
    return sumCounters(await this.db.queryPk(this.db.clustersTable, keys.deltaPk(version, c))).deltas;
  }

  private async baseList(pk: string): Promise<CachedList> {
    const hit = this.cache.get(pk);
    if (hit) {
      // refresh LRU position
      this.cache.delete(pk);
      this.cache.set(pk, hit);
      return hit;
    }
    const items = await this.db.queryPk(this.db.clustersTable, pk);
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
    if (typeof items[0]?.t === 'string') entry.typical = unpackInts(items[0].t);
    this.cache.set(pk, entry);
    this.cachedEntries += movieIds.length;
    const max = this.cfg.listCacheSize ?? 512;
    const maxEntries = this.cfg.listCacheEntries ?? 1_000_000;
    while (this.cache.size > 1 && (this.cache.size > max || this.cachedEntries > maxEntries)) {
      const [oldest, old] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedEntries -= old.list.movieIds.length;
    }
    return entry;
  }
}

/** DynamoDB's (and dynalite's) refusal of a write that would make an item exceed 400 KB. */
function isItemTooLarge(e: unknown): boolean {
  const err = e as { name?: string; message?: string } | null;
  return err?.name === 'ValidationException' && /maximum allowed size/.test(err.message ?? '');
}

/** Sum counter items of one partition: movie counters `m<id>` (a movie may be in its shard and its overflow
 * item) and the size delta `sz`. */
function sumCounters(items: Item[]): { deltas: Map<number, number>; sizeDelta: number } {
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
