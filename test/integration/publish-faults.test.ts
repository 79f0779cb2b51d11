// Publishing under faults, on dynalite through the real SDK: UnprocessedItems retried with backoff then a loud
// failure; a crash after N of M batches leaves the old model serving and the orphan is deleted later; lists and
// users far beyond 400 KB are split into pages/shards and read back intact.
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { makeDocClient } from '../../functions/adapters/aws';
import { batchWrite, BatchWriteError } from '../../functions/adapters/dynamo/batch-writer';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { PAGE_SIZE, USER_SHARD_MOVIES } from '../../functions/adapters/dynamo/layout';
import { createTables, startStack } from '../support/emulators';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';
import { publishModel } from '../../functions/app/publish';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let n = 0;
beforeAll(async () => {
  stack = await startStack('faults');
});
afterAll(async () => {
  await stack?.stop();
});

async function fresh(doc = makeDocClient(stack.dynamo), extra: Partial<ConstructorParameters<typeof DynamoModelStore>[0]> = {}) {
  const tables = await createTables(stack.dynamo, `f${++n}`);
  return {
    tables,
    store: new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, ...extra }),
  };
}

const put = (i: number) => ({ PutRequest: { Item: { pk: `p${i}`, sk: 's' } } });

describe('batchWrite', () => {
  test('UnprocessedItems are retried with growing, jittered delays until written', async () => {
    const mock = mockClient(DynamoDBDocumentClient);
    try {
      let call = 0;
      mock.on(BatchWriteCommand).callsFake((input) => {
        call++;
        const items = input.RequestItems.t;
        // first two attempts leave the last 5 items unprocessed
        return call <= 2 ? { UnprocessedItems: { t: items.slice(-5) } } : { UnprocessedItems: {} };
      });
      const delays: number[] = [];
      const stats = await batchWrite(DynamoDBDocumentClient.from(stack.dynamo), 't', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(put), {
        sleep: async (ms) => void delays.push(ms),
        random: () => 0.999,
        baseDelayMs: 100,
      });
      expect(stats).toEqual({ items: 10, requests: 3, retriedItems: 10 });
      // attempt 1 → up to 100·2¹, attempt 2 → up to 100·2²
      expect(delays).toEqual([199, 399]);
    } finally {
      mock.restore();
    }
  });

  test('after the last attempt it fails loudly', async () => {
    const mock = mockClient(DynamoDBDocumentClient);
    try {
      mock.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
      await expect(
        batchWrite(DynamoDBDocumentClient.from(stack.dynamo), 't', [put(1), put(2)], { sleep: async () => undefined, maxAttempts: 4 }),
      ).rejects.toThrow(BatchWriteError);
      expect(mock.commandCalls(BatchWriteCommand).length).toBe(4);
    } finally {
      mock.restore();
    }
  });
});

test('a crash after N of M batches: the old model keeps serving; the orphan is deleted by a later publish', async () => {
  const doc = makeDocClient(stack.dynamo);
  const { store, tables } = await fresh(doc);
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  await publishModel(store, modelOf(snapshot), 'good', { bucket: 'b', key: 'k1' }, { sourceOrder: '1' });

  // a bigger model whose publish dies after 2 BatchWrite requests
  const users: Record<number, number[]> = {};
  for (let u = 1; u <= 200; u++) users[u] = [1 + (u % 7), 10 + (u % 5)];
  const big = makeSnapshot(users, (u) => u % 3).snapshot;
  let batches = 0;
  const crashing = new Proxy(doc, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (cmd: unknown) => {
        if (cmd instanceof BatchWriteCommand && ++batches > 2) return Promise.reject(new Error('Lambda timed out'));
        return target.send(cmd as BatchWriteCommand);
      };
    },
  }) as DynamoDBDocumentClient;
  const dying = new DynamoModelStore({ doc: crashing, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, batch: { concurrency: 1 } });
  await expect(publishModel(dying, modelOf(big), 'crashed', { bucket: 'b', key: 'k2' }, { sourceOrder: '2' })).rejects.toThrow('timed out');

  expect((await store.activeVersion({ fresh: true }))?.version).toBe('good');
  expect(await store.getUser('good', 3)).toMatchObject({ cluster: 0, movies: [100, 104] });
  expect((await store.versionMeta('crashed', { fresh: true }))?.state).toBe('writing');

  // later publishes (the orphan grace period over) delete the orphan's items
  const later = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, orphanGraceMs: 0 });
  await publishModel(later, modelOf(snapshot), 'next', { bucket: 'b', key: 'k3' }, { sourceOrder: '3' });
  expect((await later.versionMeta('crashed', { fresh: true }))?.state).toBe('expired');
  expect(await later.getUser('crashed', 1)).toBeNull();
  expect((await later.versionMeta('good', { fresh: true }))?.state).toBe('published'); // the rollback version stays
});

test('a cluster list and a user far beyond 400 KB are split into pages and shards and read back intact', async () => {
  const { store } = await freshStoreWithBigData();
  const { model, version, store: s } = store;
  const c0 = model.clusters.find((c) => c.id === 0)!;
  expect(c0.movieIds.length).toBeGreaterThan(PAGE_SIZE * 3);
  expect(await s.getClusterList(version, 0)).toEqual({ movieIds: c0.movieIds, counts: c0.counts });
  const heavy = await s.getUser(version, 1);
  expect(heavy?.movies.length).toBeGreaterThan(USER_SHARD_MOVIES);
  expect(heavy?.movies).toEqual(Array.from({ length: 45000 }, (_, i) => 1_000_000_000 + i * 7919));
  const meta = await s.versionMeta(version);
  expect(meta?.clusters.find((c) => c.id === 0)?.pages).toBe(Math.ceil(c0.movieIds.length / PAGE_SIZE));
});

async function freshStoreWithBigData() {
  const { store } = await fresh();
  // user 1 has 45,000 movies with 10-digit ids (~500 KB as JSON numbers); users 2..4 share part of them
  const users: Record<number, number[]> = { 1: Array.from({ length: 45000 }, (_, i) => 1_000_000_000 + i * 7919) };
  for (let u = 2; u <= 4; u++) users[u] = users[1].filter((_, i) => i % u === 0);
  users[5] = [1, 2];
  const { snapshot, model } = makeSnapshot(users, (u) => (u === 5 ? 1 : 0));
  const version = 'huge';
  const r = await publishModel(store, modelOf(snapshot), version, { bucket: 'b', key: 'big' }, { sourceOrder: '1' });
  expect(r.status).toBe('published');
  return { store: { model, version, store } };
}
