// Reliability matrix row 17 (RELIABILITY.md) on dynalite, which enforces DynamoDB's 400 KB item limit exactly as
// DynamoDB does: a cluster list that would exceed it is paged, a user with huge history is sharded, and the
// favourite counters of a cluster keep accepting favourites when their shard item is full — never a failed write.
import { BatchWriteCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { DELTA_SHARDS, keys, PAGE_SIZE, USER_SHARD_MOVIES } from '../../functions/adapters/dynamo/layout';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { createTables, startStack } from '../support/emulators';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { publishModel } from '../../functions/app/publish';
import { idempotencyLayer } from '../support/idempotency';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const LIMIT = 400 * 1024;
let stack: Awaited<ReturnType<typeof startStack>>;
let n = 0;
beforeAll(async () => {
  stack = await startStack('rellimits');
});
afterAll(async () => {
  await stack?.stop();
});

async function fresh() {
  const tables = await createTables(stack.dynamo, `rl${++n}`);
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, orphanGraceMs: 0 });
  const api = makeApi({
    store: new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0 }),
    idempotency: idempotencyLayer(tables.idempotency, stack.dynamo),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await api(apiEvent(...args), lambdaContext);
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  return { tables, doc, store, call };
}

/** DynamoDB item size: attribute names + values (strings in UTF-8 bytes; numbers ≈ 1 byte per 2 digits + 1). */
function itemBytes(item: Record<string, unknown>): number {
  const m = marshall(item, { convertClassInstanceToMap: true });
  let size = 0;
  const valueSize = (v: Record<string, unknown>): number => {
    if ('S' in v) return Buffer.byteLength(v.S as string);
    if ('N' in v) return Math.ceil(String(v.N).replace(/^-|\.|^0+/g, '').length / 2) + 1;
    if ('NS' in v) return (v.NS as string[]).reduce((s, x) => s + Math.ceil(x.length / 2) + 1, 0);
    if ('M' in v) return 3 + Object.entries(v.M as Record<string, Record<string, unknown>>).reduce((s, [k, x]) => s + Buffer.byteLength(k) + valueSize(x) + 1, 0);
    if ('L' in v) return 3 + (v.L as Record<string, unknown>[]).reduce((s: number, x) => s + valueSize(x) + 1, 0);
    return 1;
  };
  for (const [k, v] of Object.entries(m)) size += Buffer.byteLength(k) + valueSize(v as unknown as Record<string, unknown>);
  return size;
}

async function scanAll(doc: ReturnType<typeof makeDocClient>, table: string) {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

test('row 17: dynalite enforces the 400 KB item limit on Put and BatchWrite (so an oversized write would fail here)', async () => {
  const { doc, tables } = await fresh();
  await doc.send(new PutCommand({ TableName: tables.clusters, Item: { pk: 'x', sk: 'ok', d: 'a'.repeat(LIMIT - 100) } }));
  await expect(doc.send(new PutCommand({ TableName: tables.clusters, Item: { pk: 'x', sk: 'big', d: 'a'.repeat(LIMIT) } }))).rejects.toThrow(
    /maximum allowed size/,
  );
  await expect(
    doc.send(new BatchWriteCommand({ RequestItems: { [tables.clusters]: [{ PutRequest: { Item: { pk: 'x', sk: 'big', d: 'a'.repeat(LIMIT) } } }] } })),
  ).rejects.toThrow(/maximum allowed size/);
});

test('row 17: a cluster of 100,000 distinct movies (ids near 2^53) and a user holding all of them are paged/sharded, every item < 400 KB, read back intact', async () => {
  const { doc, tables, store, call } = await fresh();
  const pool = Array.from({ length: 100_000 }, (_, i) => Number.MAX_SAFE_INTEGER - i * 7);
  const users: Record<number, number[]> = { 1: pool };
  for (let u = 2; u <= 50; u++) users[u] = pool.filter((_, i) => i % 50 === u % 50 || i % 7 === u % 7);
  users[100] = [1, 2];
  users[101] = [2, 3];
  const { snapshot, model } = makeSnapshot(users, (u) => (u >= 100 ? 1 : 0));
  const c0 = model.clusters.find((c) => c.id === 0)!;
  expect(c0.movieIds.length).toBe(100_000);

  const r = await publishModel(store, modelOf(snapshot), 'big', { bucket: 'b', key: 'uploads/big.csv' }, { sourceOrder: '1' });
  expect(r.status).toBe('published');

  // read back exactly
  expect(await store.getClusterList('big', 0)).toEqual({ movieIds: c0.movieIds, counts: c0.counts });
  expect(await store.getPopularList('big')).toEqual(model.popular);
  const heavy = await store.getUser('big', 1);
  expect(heavy?.movies).toEqual([...pool].sort((a, b) => a - b));
  const meta = await store.versionMeta('big');
  expect(meta?.clusters.find((c) => c.id === 0)).toMatchObject({ pages: Math.ceil(100_000 / PAGE_SIZE), length: 100_000 });

  // how it was split, and the largest item actually written
  const clusterItems = await scanAll(doc, tables.clusters);
  const userItems = await scanAll(doc, tables.users);
  expect(clusterItems.filter((i) => i.pk === keys.clusterPk('big', 0))).toHaveLength(50);
  expect(userItems.filter((i) => i.pk === keys.userPk('big', 1))).toHaveLength(Math.ceil(100_000 / USER_SHARD_MOVIES));
  const largest = Math.max(...[...clusterItems, ...userItems].map(itemBytes));
  expect(largest).toBeLessThan(LIMIT);
  expect(largest).toBeGreaterThan(30 * 1024); // the pages are really full-size pages, not a trivially small model

  // the API serves it: user 100 (cluster 1) and an unknown user (popular, 100k+ long)
  expect((await call('GET', '/users/100/recommendations', { query: { n: '3' } })).json.items.map((i: { movieId: number }) => i.movieId)).toEqual([
    3,
  ]);
  const popular = await call('GET', '/users/999/recommendations', { query: { n: '100', offset: '99000' } });
  expect(popular.status).toBe(200);
  expect(popular.json.items).toHaveLength(100);
});

/** Fill one favourite-counter shard item with distinct movies until the next distinct movie cannot fit. */
async function fillShard(doc: ReturnType<typeof makeDocClient>, table: string, pk: string, shard: number, avoid: Set<number>) {
  const base = 4_000_000_000_000_000; // 16-digit ids: every attribute the same size
  const ids: number[] = [];
  for (let id = base + shard; ids.length < 25_000; id += DELTA_SHARDS) if (!avoid.has(id)) ids.push(id);
  const itemWith = (count: number) => {
    const item: Record<string, unknown> = { pk, sk: `s#${shard}` };
    for (let i = 0; i < count; i++) item[keys.deltaAttr(ids[i])] = 1;
    return item;
  };
  // every attribute is "m" + 16 digits + the number 1 (the same size): the largest count that fits, computed,
  // then checked against dynalite — that many fit, one more does not
  const overhead = itemBytes({ pk, sk: `s#${shard}` });
  const per = itemBytes({ [keys.deltaAttr(ids[0])]: 1 });
  const lo = Math.floor((LIMIT - overhead) / per);
  await expect(doc.send(new PutCommand({ TableName: table, Item: itemWith(lo + 1) }))).rejects.toThrow(/maximum allowed size/);
  await doc.send(new PutCommand({ TableName: table, Item: itemWith(lo) }));
  return lo;
}

test('row 17: favourites keep counting when a cluster counter shard is full (e.g. 20k distinct favourited movies in one shard)', async () => {
  const { doc, tables, store, call } = await fresh();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k1' }, { sourceOrder: '1' });
  // the movie about to be favourited lands in shard s#(movie % 16), whose cluster-0 and popular items are full
  const movie = 4_000_000_000_000_000 + 16 * 30_000 + 5;
  const shard = movie % DELTA_SHARDS;
  const filled = await fillShard(doc, tables.clusters, keys.deltaPk('v1', 0), shard, new Set([movie]));
  await fillShard(doc, tables.clusters, keys.deltaPk('v1', 'pop'), shard, new Set([movie]));
  expect(filled).toBeGreaterThan(15_000);

  const first = await call('POST', '/users/3/movies', { body: JSON.stringify({ movieId: movie }) });
  expect(first.status).toBe(200);
  expect(first.json).toMatchObject({ cluster: 0, added: true, count: 1 });
  const second = await call('POST', '/users/2/movies', { body: JSON.stringify({ movieId: movie }) });
  expect(second.json).toMatchObject({ cluster: 0, added: true, count: 2 });
  const again = await call('POST', '/users/2/movies', { body: JSON.stringify({ movieId: movie }) });
  expect(again.json).toMatchObject({ added: false, count: 2 });
  // a new user with only that movie is placed in the cluster whose counters hold it
  const newcomer = await call('POST', '/users/77/movies', { body: JSON.stringify({ movieId: movie }) });
  expect(newcomer.json).toMatchObject({ cluster: 0, newUser: true, added: true, count: 3 });

  // reads merge every counter item: the full shard's movies (count 1 each) and the overflowed one (3)
  const list = await store.getClusterList('v1', 0);
  expect(list.counts[list.movieIds.indexOf(movie)]).toBe(3);
  expect(list.movieIds.length).toBe(5 + filled + 1);
  expect((await call('GET', '/users/1/recommendations', { query: { n: '2' } })).status).toBe(200);

  // the version's counter items, overflow included, are deleted with the version later
  await publishModel(store, modelOf(snapshot), 'v2', { bucket: 'b', key: 'k2' }, { sourceOrder: '2' });
  await publishModel(store, modelOf(snapshot), 'v3', { bucket: 'b', key: 'k3' }, { sourceOrder: '3' });
  const left = await doc.send(
    new QueryCommand({ TableName: tables.clusters, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.deltaPk('v1', 0) } }),
  );
  expect(left.Items).toEqual([]);
});
