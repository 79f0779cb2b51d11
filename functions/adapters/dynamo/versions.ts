// Model versions in the clusters table: the active pointer (cached a few seconds), version metadata, and
// the writes of the publish protocol — metadata `writing`, every item, then ONE conditional update of the
// pointer that makes the version live — plus the deletion of versions nobody can roll back to.
// The protocol's order and reasoning: docs/ARCHITECTURE.md ("Publish protocol").
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ClusterModel } from '../../core/model';
import type { ActivePointer, ExportInfo, ModelVersions, SourceRef, VersionExtras, VersionMeta, WriteResult } from '../../ports';
import type { VersionLists } from '../../ports/training-run';
import { isConditionalFailure } from '../aws';
import { batchWrite, BatchWriteOptions, BatchWriteStats } from './batch-writer';
import type { DynamoContext, Item } from './context';
import { keys } from './layout';
import { clusterItems, listItems, manifestItems, pageKeysOf, similarItems, similarKeysOf, userItems, userKeysOf, versionMetaFrom, versionMetaOf } from './version-items';

export interface VersionsConfig {
  /** how long the active pointer is cached (default 5 s; 0 = read it every time) */
  pointerTtlMs?: number;
  batch?: BatchWriteOptions;
  /** a version still `writing` this long is an orphan (crashed publish) and may be deleted (default 1 h) */
  orphanGraceMs?: number;
  /** how long expired versions' metadata stays (TTL; default 30 days) */
  expiredMetaTtlDays?: number;
}

type FlipOutcome = { status: WriteResult['status']; active: string | null; previous?: string | null };

export class DynamoVersions implements ModelVersions {
  private pointerCache: { value: ActivePointer | null; at: number } | null = null;
  private readonly metaCache = new Map<string, VersionMeta>();

  constructor(
    private readonly db: DynamoContext,
    private readonly cfg: VersionsConfig = {},
  ) {}

  async activeVersion(opts: { fresh?: boolean } = {}): Promise<ActivePointer | null> {
    const ttl = this.cfg.pointerTtlMs ?? 5000;
    if (!opts.fresh && this.pointerCache && this.db.now() - this.pointerCache.at < ttl) return this.pointerCache.value;
    const item = await this.db.get(this.db.clustersTable, keys.pointer(), { consistent: true });
    const value = item
      ? {
          version: item.version as string,
          sourceOrder: item.sourceOrder as string,
          source: item.source as SourceRef,
          previous: (item.previous as string | undefined) ?? null,
          activatedAt: item.activatedAt as string,
        }
      : null;
    this.pointerCache = { value, at: this.db.now() };
    return value;
  }

  async versionMeta(version: string, opts: { fresh?: boolean } = {}): Promise<VersionMeta | null> {
    const cached = this.metaCache.get(version);
    if (cached && !opts.fresh) return cached;
    const item = await this.db.get(this.db.clustersTable, keys.meta(version), { consistent: true });
    if (!item) return null;
    const { pk: _pk, sk: _sk, expiresAt: _e, ...meta } = item;
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

  async writeVersion(
    model: ClusterModel,
    version: string,
    source: SourceRef,
    opts: { sourceOrder: string; summary?: Record<string, unknown>; extras?: VersionExtras },
  ): Promise<WriteResult> {
    const stats: BatchWriteStats = { items: 0, requests: 0, retriedItems: 0 };
    const result = (flip: FlipOutcome): WriteResult => ({
      ...flip,
      items: stats.items + 1,
      batchRequests: stats.requests,
      retriedItems: stats.retriedItems,
    });
    const meta = versionMetaOf(model, version, source, { ...opts, createdAt: new Date(this.db.now()).toISOString() });
    if (!(await this.putMeta(version, meta))) {
      return result({ status: 'already-published', active: (await this.activeVersion({ fresh: true }))?.version ?? null });
    }
    await Promise.all([
      batchWrite(this.db.doc, this.db.clustersTable, clusterItems(model, version, opts.extras), this.cfg.batch, stats),
      batchWrite(this.db.doc, this.db.usersTable, userItems(model, version), this.cfg.batch, stats),
    ]);
    this.db.count('BatchWriteCommand', stats.requests);
    return result(await this.flip(version, source, opts.sourceOrder));
  }

  /** The metadata item, state `writing` (conditional: not already published); false when it was. */
  private async putMeta(version: string, meta: VersionMeta): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.db.clustersTable,
          Item: { ...keys.meta(version), ...meta },
          ConditionExpression: 'attribute_not_exists(pk) OR #s = :writing OR #s = :refused',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':writing': 'writing', ':refused': 'refused' },
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return false;
    }
  }

  /** The flip and the states it implies (published, the previous superseded, or refused when stale). */
  private async flip(version: string, source: SourceRef, sourceOrder: string): Promise<FlipOutcome> {
    const flip = await this.flipPointer(version, source, sourceOrder);
    if (flip.status === 'stale') await this.setState(version, 'refused');
    if (flip.status !== 'published') return flip;
    const publishedAt = new Date(this.db.now()).toISOString();
    await this.setState(version, 'published', { publishedAt });
    if (flip.previous) await this.setState(flip.previous, 'published', { supersededAt: publishedAt });
    return flip;
  }

  // ---- the same protocol in parts, for a distributed publish: metadata and lists once, users by partition
  // (in parallel, from several functions), then the one flip

  async startVersion(lists: VersionLists, version: string, source: SourceRef, opts: { sourceOrder: string; summary?: Record<string, unknown> }): Promise<{ started: boolean; items: number }> {
    const meta = versionMetaFrom(lists, version, source, { ...opts, extras: lists.extras, createdAt: new Date(this.db.now()).toISOString() });
    if (!(await this.putMeta(version, meta))) return { started: false, items: 0 };
    const stats: BatchWriteStats = { items: 0, requests: 0, retriedItems: 0 };
    const items = [...listItems(lists.clusters, lists.popular, version, lists.extras?.typical, lists.scoring), ...similarItems(version, lists.extras ?? {})];
    await batchWrite(this.db.doc, this.db.clustersTable, items, this.cfg.batch, stats);
    this.db.count('BatchWriteCommand', stats.requests);
    return { started: true, items: stats.items + 1 };
  }

  async writeUsers(users: ClusterModel, version: string, part: string): Promise<{ items: number; requests: number }> {
    const stats: BatchWriteStats = { items: 0, requests: 0, retriedItems: 0 };
    await Promise.all([
      batchWrite(this.db.doc, this.db.usersTable, userItems(users, version), this.cfg.batch, stats),
      batchWrite(this.db.doc, this.db.clustersTable, manifestItems(users, version, part), this.cfg.batch, stats),
    ]);
    this.db.count('BatchWriteCommand', stats.requests);
    return { items: stats.items, requests: stats.requests };
  }

  async finishVersion(version: string, source: SourceRef, sourceOrder: string): Promise<WriteResult> {
    return { ...(await this.flip(version, source, sourceOrder)), items: 0, batchRequests: 0, retriedItems: 0 };
  }

  async recordExport(version: string, info: ExportInfo): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.db.clustersTable,
        Key: keys.meta(version),
        UpdateExpression: 'SET #e = :e',
        // a version deleted meanwhile (superseded twice during a long export) gets no metadata back
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#e': 'export' },
        ExpressionAttributeValues: { ':e': info },
      }),
    ).catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
    this.metaCache.delete(version);
  }

  /** One conditional update: the pointer still names what we read and no newer source is live. */
  private async flipPointer(version: string, source: SourceRef, sourceOrder: string): Promise<FlipOutcome> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ptr = await this.activeVersion({ fresh: true });
      if (ptr?.version === version) return { status: 'already-published', active: version };
      if (ptr && ptr.sourceOrder > sourceOrder) return { status: 'stale', active: ptr.version };
      const activatedAt = new Date(this.db.now()).toISOString();
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.db.clustersTable,
            Key: keys.pointer(),
            UpdateExpression: 'SET #v = :v, sourceOrder = :o, #src = :src, previous = :prev, activatedAt = :at',
            ConditionExpression: ptr ? '#v = :prev AND sourceOrder <= :o' : 'attribute_not_exists(pk)',
            ExpressionAttributeNames: { '#v': 'version', '#src': 'source' },
            ExpressionAttributeValues: { ':v': version, ':o': sourceOrder, ':src': source, ':prev': ptr?.version ?? null, ':at': activatedAt },
          }),
        );
        this.pointerCache = { value: { version, sourceOrder, source, previous: ptr?.version ?? null, activatedAt }, at: this.db.now() };
        return { status: 'published', active: version, previous: ptr?.version ?? null };
      } catch (e) {
        if (!isConditionalFailure(e)) throw e;
        // someone flipped between our read and our write: re-read and decide again
      }
    }
    throw new Error(`Could not flip the active pointer to ${version}: it kept changing under us.`);
  }

  private async setState(version: string, state: VersionMeta['state'], extra: Record<string, unknown> = {}): Promise<void> {
    const names: Record<string, string> = { '#s': 'state' };
    const values: Record<string, unknown> = { ':s': state };
    const sets = ['#s = :s'];
    for (const [k, v] of Object.entries(extra)) {
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.db.clustersTable,
          Key: keys.meta(version),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      )
      .catch((e) => {
        if (!isConditionalFailure(e)) throw e;
      });
    this.metaCache.delete(version);
  }

  async cleanup(active: string, previous: string | null | undefined): Promise<string[]> {
    const metas = (
      await this.db.queryAll({
        TableName: this.db.clustersTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':pk': 'model', ':v': 'v#' },
        ConsistentRead: true,
      })
    ).map((i) => i as unknown as VersionMeta);
    const expired: string[] = [];
    for (const m of metas) {
      if (m.version === active || m.version === previous || m.state === 'expired') continue;
      const age = this.db.now() - Date.parse(m.createdAt);
      if (m.state === 'writing' && age < (this.cfg.orphanGraceMs ?? 3_600_000)) continue;
      await this.deleteVersionItems(m);
      await this.setState(m.version, 'expired', {
        expiresAt: Math.floor(this.db.now() / 1000) + 86400 * (this.cfg.expiredMetaTtlDays ?? 30),
      });
      expired.push(m.version);
    }
    return expired;
  }

  private async deleteVersionItems(m: VersionMeta): Promise<void> {
    const v = m.version;
    const clusterKeys: Item[] = pageKeysOf(m);
    const userKeys: Item[] = [];
    for (const c of [...m.clusters.map((x) => x.id as number | 'pop'), 'pop' as const]) {
      // every counter item that exists (shards and overflow items), whatever shard count wrote them
      const counters = await this.db.queryAll({
        TableName: this.db.clustersTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.deltaPk(v, c) },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      });
      for (const item of counters) clusterKeys.push({ pk: item.pk, sk: item.sk });
    }
    for (const item of await this.db.queryPk(this.db.clustersTable, keys.manifestPk(v), true)) {
      clusterKeys.push({ pk: item.pk, sk: item.sk }, ...similarKeysOf(v, item));
      userKeys.push(...userKeysOf(v, item));
    }
    const del = (ks: Item[]) => ks.map((Key) => ({ DeleteRequest: { Key } }));
    await batchWrite(this.db.doc, this.db.usersTable, del(userKeys), this.cfg.batch);
    await batchWrite(this.db.doc, this.db.clustersTable, del(clusterKeys), this.cfg.batch);
  }
}
