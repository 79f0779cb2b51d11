// DynamoModelStore against dynalite through the real SDK: versioned publish + pointer flip, idempotency,
// stale refusal, the read path, favourites with the core's exact semantics, favourites across a publish, cleanup.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { addFavourite, recommend, userMovies } from '../../functions/core/model';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { sourceOrderOf } from '../../functions/app/upload';
import { startStack } from '../support/emulators';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';
import { publishModel } from '../../functions/app/publish';
import { addFavourite as addFavouriteUseCase, countFavourite } from '../../functions/app/favourites';
import { activeModel as activeModelOf } from '../../functions/app/active-model';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let n = 0;

beforeAll(async () => {
  stack = await startStack('store');
});
afterAll(async () => {
  await stack?.stop();
});

/** a fresh stage (own tables) per test keeps tests independent */
async function freshStore() {
  const stage = `s${++n}`;
  const { createTables } = await import('../support/emulators');
  const tables = await createTables(stack.dynamo, stage);
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({
    doc,
    usersTable: tables.users,
    clustersTable: tables.clusters,
    pointerTtlMs: 0,
  });
  return { store, doc, tables };
}

const src = (key: string, t: string) => ({ bucket: 'b', key, etag: key, eventTime: t });
const order = (t: string) => sourceOrderOf({ eventTime: t });

test('publish writes the version and flips the pointer; reads match the core model', async () => {
  const { store } = await freshStore();
  const { snapshot, model } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  expect(await store.activeVersion()).toBeNull();
  const r = await publishModel(store, modelOf(snapshot), 'v1', src('a', '2026-01-01T00:00:00Z'), {
    sourceOrder: order('2026-01-01T00:00:00Z'),
  });
  expect(r.status).toBe('published');
  expect((await store.activeVersion())?.version).toBe('v1');

  // hand-computed (see model-fixtures): cluster 0 ranked 100:3, 101:2, 102:1, 103:1, 104:1
  expect(await store.getClusterList('v1', 0)).toEqual({ movieIds: [100, 101, 102, 103, 104], counts: [3, 2, 1, 1, 1] });
  expect(await store.getClusterList('v1', 1)).toEqual({ movieIds: [200, 100, 201, 202], counts: [2, 1, 1, 1] });
  expect(await store.getUser('v1', 3)).toEqual({ userId: 3, cluster: 0, movies: [100, 104], favourites: [] });
  expect(await store.getUser('v1', 99)).toBeNull();
  expect((await store.getPopularList('v1')).movieIds).toEqual(model.popular.movieIds);
  const meta = await store.versionMeta('v1');
  expect(meta?.state).toBe('published');
  expect(meta?.clusters.map((c) => [c.id, c.size])).toEqual([
    [0, 3],
    [1, 2],
  ]);
});

test('the same version twice is published once; an older source is refused', async () => {
  const { store } = await freshStore();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const t2 = '2026-01-02T00:00:00Z';
  expect((await publishModel(store, modelOf(snapshot), 'v2', src('b', t2), { sourceOrder: order(t2) })).status).toBe('published');
  const again = await publishModel(store, modelOf(snapshot), 'v2', src('b', t2), { sourceOrder: order(t2) });
  expect(again.status).toBe('already-published');
  const t1 = '2026-01-01T00:00:00Z';
  const old = await publishModel(store, modelOf(snapshot), 'v1', src('a', t1), { sourceOrder: order(t1) });
  expect(old).toMatchObject({ status: 'stale', active: 'v2' });
  expect((await store.activeVersion())?.version).toBe('v2');
});

test('concurrent deliveries of one version publish it once', async () => {
  const { store } = await freshStore();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const t = '2026-01-01T00:00:00Z';
  const results = await Promise.all(
    [1, 2, 3].map(() => publishModel(store, modelOf(snapshot), 'vx', src('x', t), { sourceOrder: order(t) })),
  );
  expect(results.filter((r) => r.status === 'published').length).toBe(1);
  expect(results.every((r) => r.active === 'vx')).toBe(true);
});

test('favourites follow core addFavourite exactly (existing user, duplicate, new user placement)', async () => {
  const { store } = await freshStore();
  const { snapshot, model } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const t = '2026-01-01T00:00:00Z';
  await publishModel(store, modelOf(snapshot), 'v1', src('a', t), { sourceOrder: order(t) });
  const ops: Array<[number, number]> = [
    [3, 103], // cluster 0: 103 → 2, ties 101:2 → 101 first (id asc)
    [3, 103], // duplicate: nothing counted
    [1, 100], // already had it: nothing counted
    [11, 201], // cluster 1: 201 → 2, ranks after 200:2
    [50, 202], // new user, 202 only in cluster 1 → placed in 1
    [51, 999], // new user, movie nowhere → lowest cluster (0), 999 appended
    [52, 999], // new user, 999 now in cluster 0 via a favourite → 0
  ];
  for (const [u, m] of ops) {
    const got = await countFavourite(store, 'v1', u, m);
    const want = addFavourite(model, u, m);
    expect({ u, m, cluster: got.cluster, added: got.added, count: got.count, newUser: got.newUser }).toEqual({
      u,
      m,
      cluster: want.cluster,
      added: want.added,
      count: want.count,
      newUser: want.newUser,
    });
  }
  for (const c of model.clusters) {
    expect(await store.getClusterList('v1', c.id)).toEqual({ movieIds: c.movieIds, counts: c.counts });
  }
  expect(await store.getPopularList('v1')).toEqual(model.popular);
  const u3 = await store.getUser('v1', 3);
  expect([...u3!.movies, ...u3!.favourites].sort((a, b) => a - b)).toEqual(userMovies(model, 3));
  // hand-checked: cluster 0 is now 100:3, 101:2, 103:2, 999:2, 102:1, 104:1
  expect((await store.getClusterList('v1', 0)).movieIds).toEqual([100, 101, 103, 999, 102, 104]);
  expect(recommend(model, 3, { n: 2 }).items.map((i) => i.movieId)).toEqual([101, 999]);
});

test('favourites survive a publish: folded before the flip, replayed after it', async () => {
  const { store } = await freshStore();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const t1 = '2026-01-01T00:00:00Z';
  await publishModel(store, modelOf(snapshot), 'v1', src('a', t1), { sourceOrder: order(t1) });
  for (const [u, m] of [
    [3, 103],
    [60, 200],
  ]) {
    await store.recordFavourite(u, m, new Date().toISOString());
    await countFavourite(store, 'v1', u, m);
  }
  // v2 is trained from the same file (it knows nothing of the favourites)
  const t2 = '2026-01-02T00:00:00Z';
  const r = await publishModel(store, modelOf(snapshot), 'v2', src('b', t2), { sourceOrder: order(t2) });
  expect(r.stats?.favouritesFolded).toBe(2);
  const u3 = await store.getUser('v2', 3);
  expect(u3?.movies).toEqual([100, 103, 104]);
  expect((await store.getClusterList('v2', 0)).counts.slice(0, 3)).toEqual([3, 2, 2]);
  const u60 = await store.getUser('v2', 60);
  expect(u60).toMatchObject({ cluster: 1, movies: [200] });
  // a replay of an already-folded favourite counts nothing
  const again = await countFavourite(store, 'v2', 3, 103);
  expect(again.added).toBe(false);
  expect(again.count).toBe(2);
});

test('publishing a third version deletes the first (rollback version kept)', async () => {
  const { store, doc, tables } = await freshStore();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  for (const [v, t] of [
    ['v1', '2026-01-01T00:00:00Z'],
    ['v2', '2026-01-02T00:00:00Z'],
    ['v3', '2026-01-03T00:00:00Z'],
  ]) {
    await publishModel(store, modelOf(snapshot), v, src(v, t), { sourceOrder: order(t) });
  }
  expect((await store.versionMeta('v1', { fresh: true }))?.state).toBe('expired');
  expect((await store.versionMeta('v2', { fresh: true }))?.state).toBe('published');
  const users = await doc.send(new ScanCommand({ TableName: tables.users }));
  const versionsLeft = new Set((users.Items ?? []).map((i) => String(i.pk).split('#')[1]));
  expect([...versionsLeft].sort()).toEqual(['v2', 'v3']);
  const clusters = await doc.send(new ScanCommand({ TableName: tables.clusters }));
  expect((clusters.Items ?? []).some((i) => String(i.pk).startsWith('v#v1#'))).toBe(false);
  expect(await store.getUser('v2', 1)).not.toBeNull();
});

test('favourites added through the API carry over into a version trained from another file, and the version says how many (GET /models/active)', async () => {
  const { store } = await freshStore();
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const [t1, t2] = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'];
  await publishModel(store, modelOf(snapshot), 'v1', src('a.csv', t1), { sourceOrder: order(t1) });
  expect((await activeModelOf(store)).favourites).toEqual({ carriedOver: 0, users: 0, note: 'No favourites were carried over from earlier models.' });
  // two favourites of user 3, one of a new user 77
  for (const [u, m] of [[3, 200], [3, 201], [77, 100]]) await addFavouriteUseCase(store, u, m);
  await publishModel(store, modelOf(snapshot), 'v2', src('unrelated.csv', t2), { sourceOrder: order(t2) });
  const active = await activeModelOf(store);
  expect(active.version).toBe('v2');
  expect(active.source.key).toBe('unrelated.csv');
  expect(active.favourites).toEqual({
    carriedOver: 3,
    users: 2,
    note: '3 favourites of 2 users, added through the API before this model was published, were carried over from earlier models: their user and movie ids are taken to mean the same in this file.',
  });
  // folded into the new version's data: the new user 77 is in it with the movie
  expect((await store.getUser('v2', 77))?.movies).toEqual([100]);
});
