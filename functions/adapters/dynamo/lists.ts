// Cluster lists in the clusters table: each version's immutable ranked base lists (cached in memory per
// version and cluster, LRU) and the favourite counters the API adds to them (UpdateItem ADD, sharded by
// movieId mod DELTA_SHARDS, with a per-movie overflow item once a shard item is full). A read merges the two
// with core mergeDeltas; the read path's budget (≤ 2 requests per recommendation) is in docs/ARCHITECTURE.md.
// With `countersMaxAgeMs` > 0 (the API's setting) the counters are cached too: a read older than that is
// served once more while one background read refreshes it (stale-while-revalidate), so a warm request costs
// one GetItem; a read older than `countersHardMaxAgeMs` (a thawed Lambda) is waited for; and this instance's
// own favourites drop the counters they touched, so a caller always sees its own writes.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mergeDeltas, type RankedList } from '../../core/ranked';
import { float32FromBytes } from '../../core/snapshot';
import type { ClusterLists, SizedList } from '../../ports';
import { batchGet } from './batch-reader';
import type { DynamoContext, Item } from './context';
import { DELTA_SHARDS, estimateItemBytes, FULL_SHARD_BYTES, keys, unpackInts } from './layout';

export interface ListsConfig {
  /** ranked base lists kept in memory (default 512 (version, cluster) lists: a taste model has ~160) */
  listCacheSize?: number;
  /** ... and at most this many list entries in all (default 1,000,000: long seed lists) */
  listCacheEntries?: number;
  /** how old (ms) cached favourite counters may be before a read refreshes them in the background; 0 (the
   * default) reads them on every request */
  countersMaxAgeMs?: number;
  /** older than this (default 10 × countersMaxAgeMs, at least 10 s), a read waits for fresh counters */
  countersHardMaxAgeMs?: number;
}

interface CachedCounters {
  items: Item[];
  /** when they were read (DynamoContext's clock) */
  at: number;
  /** a background refresh is in flight */
  refreshing: boolean;
}

interface CachedList {
  list: RankedList;
  countOf: Map<number, number>;
  /** users in the cluster at publish time (page 0's `s`; absent for the popular list and older versions) */
  size?: number;
  /** CL-EASE versions (page 0's `e`, `b`, `bt`, `hl`): the local matrix over its movies, the serving settings */
  local?: { movieIds: number[]; b: Float32Array };
  scoring?: { beta: number; halfLife: number };
  /** the cluster's typical movies (page 0's `t`; absent for the popular list and older versions) */
  typical?: number[];
}

type Partition = number | 'pop';

export class DynamoLists implements ClusterLists {
  private readonly cache = new Map<string, CachedList>();
  private cachedEntries = 0;
  /** favourite counter items by counter partition (deltaPk), when countersMaxAgeMs > 0 */
  private readonly counters = new Map<string, CachedCounters>();
  private readonly refreshes = new Set<Promise<void>>();

  constructor(
    private readonly db: DynamoContext,
    private readonly cfg: ListsConfig = {},
  ) {}

  async getClusterList(version: string, clusterId: number): Promise<RankedList> {
    const [base, items] = await Promise.all([this.baseList(keys.clusterPk(version, clusterId)), this.countersOf(version, [clusterId])]);
    return mergeDeltas(base.list, sumCounters(items.get(keys.deltaPk(version, clusterId)) ?? []).deltas);
  }

  async getTypical(version: string, clusterIds: number[]): Promise<Array<number[] | undefined>> {
    return (await Promise.all(clusterIds.map((c) => this.baseList(keys.clusterPk(version, c))))).map((b) => b.typical);
  }

  async getPopularList(version: string): Promise<RankedList> {
    const [base, items] = await Promise.all([this.baseList(keys.popularPk(version)), this.countersOf(version, ['pop'])]);
    return mergeDeltas(base.list, sumCounters(items.get(keys.deltaPk(version, 'pop')) ?? []).deltas);
  }

  /**
   * A taste user's clusters: base lists from the in-memory cache (one Query each only when cold) and the
   * favourite counters of ALL of them in one BatchGetItem (clusters × DELTA_SHARDS keys). A counter item that
   * may be full (some movies then live in overflow items no BatchGetItem can name) sends that one cluster to
   * a Query of its counter partition instead.
   */
  async getClusterLists(version: string, clusterIds: number[]): Promise<SizedList[]> {
    const ids = [...new Set(clusterIds)];
    const [bases, counters] = await Promise.all([Promise.all(ids.map((c) => this.baseList(keys.clusterPk(version, c)))), this.countersOf(version, ids)]);
    const merged = ids.map((c, j) => {
      const { deltas, sizeDelta } = sumCounters(counters.get(keys.deltaPk(version, c)) ?? []);
      const base = bases[j];
      if (base.size === undefined) throw new Error(`cluster ${c} of model version ${version} has no stored size`);
      const out: SizedList = { id: c, size: base.size + sizeDelta, ...mergeDeltas(base.list, deltas) };
      if (base.local && base.scoring) {
        // the live count of each of the matrix's movies: base count plus its favourite counter
        const counts = base.local.movieIds.map((m) => (base.countOf.get(m) ?? 0) + (deltas.get(m) ?? 0));
        out.local = { movieIds: base.local.movieIds, counts, b: base.local.b };
        out.scoring = base.scoring;
      }
      return out;
    });
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
    // this instance's next read of these counters sees the favourite (read-your-writes)
    this.counters.delete(keys.deltaPk(version, clusterId));
    this.counters.delete(keys.deltaPk(version, 'pop'));
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

  /** Settles when no background counter refresh is in flight (tests, and a clean shutdown). */
  async whenRefreshed(): Promise<void> {
    while (this.refreshes.size) await Promise.allSettled([...this.refreshes]);
  }

  /**
   * The favourite counter items of each partition, by deltaPk: from the cache when young enough (a stale entry
   * is served and refreshed in the background), else read now: the shard items of all of them in one
   * BatchGetItem, and a Query of any partition whose shard item may be full (its overflow items, which no
   * BatchGetItem can name).
   */
  private async countersOf(version: string, parts: Partition[]): Promise<Map<string, Item[]>> {
    const maxAge = this.cfg.countersMaxAgeMs ?? 0;
    if (maxAge <= 0) return this.readCounters(version, parts);
    const hardMaxAge = this.cfg.countersHardMaxAgeMs ?? Math.max(10 * maxAge, 10_000);
    const now = this.db.now();
    const out = new Map<string, Item[]>();
    const missing: Partition[] = [];
    const stale: Partition[] = [];
    for (const c of parts) {
      const pk = keys.deltaPk(version, c);
      const hit = this.counters.get(pk);
      if (!hit || now - hit.at > hardMaxAge) {
        missing.push(c);
        continue;
      }
      out.set(pk, hit.items);
      if (now - hit.at > maxAge && !hit.refreshing) stale.push(c);
    }
    if (stale.length) this.refreshInBackground(version, stale);
    if (missing.length) {
      const read = await this.readCounters(version, missing);
      for (const [pk, items] of read) {
        out.set(pk, items);
        this.remember(pk, items, now);
      }
    }
    return out;
  }

  private refreshInBackground(version: string, parts: Partition[]): void {
    const pks = parts.map((c) => keys.deltaPk(version, c));
    for (const pk of pks) this.counters.get(pk)!.refreshing = true;
    const at = this.db.now();
    const p = this.readCounters(version, parts).then(
      (read) => {
        for (const [pk, items] of read) this.remember(pk, items, at);
      },
      // the stale entry stays (and is retried by a later read); past the hard age a read waits for its own
      () => {
        for (const pk of pks) {
          const e = this.counters.get(pk);
          if (e) e.refreshing = false;
        }
      },
    );
    const tracked = p.finally(() => this.refreshes.delete(tracked));
    this.refreshes.add(tracked);
  }

  private remember(pk: string, items: Item[], at: number): void {
    this.counters.delete(pk);
    this.counters.set(pk, { items, at, refreshing: false });
    const max = this.cfg.listCacheSize ?? 512;
    while (this.counters.size > max) this.counters.delete(this.counters.keys().next().value!);
  }

  private async readCounters(version: string, parts: Partition[]): Promise<Map<string, Item[]>> {
    const counterKeys = parts.flatMap((c) => Array.from({ length: DELTA_SHARDS }, (_, s) => ({ pk: keys.deltaPk(version, c), sk: `s#${s}` })));
    const items = await batchGet(this.db.doc, this.db.clustersTable, counterKeys, { onRequest: () => this.db.count('BatchGetCommand') });
    const byPk = new Map<string, Item[]>(parts.map((c) => [keys.deltaPk(version, c), []]));
    for (const it of items) byPk.get(it.pk as string)?.push(it);
    await Promise.all(
      [...byPk].map(async ([pk, own]) => {
        if (own.some((it) => estimateItemBytes(it) >= FULL_SHARD_BYTES)) byPk.set(pk, await this.db.queryPk(this.db.clustersTable, pk));
      }),
    );
    return byPk;
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
    const first = items[0];
    if (typeof first?.s === 'number') entry.size = first.s;
    if (typeof first?.t === 'string') entry.typical = unpackInts(first.t);
    if (first && typeof first.e === 'string' && first.b instanceof Uint8Array && typeof first.bt === 'number' && typeof first.hl === 'number') {
      entry.local = { movieIds: unpackInts(first.e), b: float32FromBytes(first.b) };
      entry.scoring = { beta: first.bt, halfLife: first.hl };
    }
    this.cache.set(pk, entry);
    this.cachedEntries += cacheWeight(entry);
    const max = this.cfg.listCacheSize ?? 512;
    const maxEntries = this.cfg.listCacheEntries ?? 1_000_000;
    while (this.cache.size > 1 && (this.cache.size > max || this.cachedEntries > maxEntries)) {
      const [oldest, old] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedEntries -= cacheWeight(old);
    }
    return entry;
  }
}

/** A cached list's share of the entry budget: its (movieId, count) pairs (about 16 bytes each), and a local
 * matrix's L² float32 values (4 bytes each) as L² / 4 pairs. */
function cacheWeight(c: CachedList): number {
  return c.list.movieIds.length + (c.local ? c.local.b.length / 4 : 0);
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
