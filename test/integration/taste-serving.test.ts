// The default (taste) model served from DynamoDB (dynalite, real SDK) answers every user exactly like the core's
// recommendFor on the in-memory model — before and after favourites (core addFavourite applied to the same
// sequence), after a new publish folds them in, and with filters — with ≤ 2 DynamoDB requests per warm
// recommendation; similar movies equal core's in one request.
import { PassThrough, Readable } from 'node:stream';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { addFavourite, ClusterModel, userIndex } from '../../functions/core/model';
import { fromSnapshot, ModelSnapshot } from '../../functions/core/snapshot';
import { recommendFor } from '../../functions/core/recommender/serve';
import { generateMovies, generateRatings } from '../../offline/generate';
import { readMovies } from '../../functions/core/movies';
import { similarMovies } from '../../functions/core/similar';
import { trainModel } from '../../functions/core/train';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { keys } from '../../functions/adapters/dynamo/layout';
import { makeHandler } from '../../functions/handlers/api';
import { createTables, startStack } from '../support/emulators';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { publishModel } from '../../functions/app/publish';
import { idempotencyLayer } from '../support/idempotency';
import { modelOf } from '../support/model-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let snapshot: ModelSnapshot;
/** every DynamoDB request sent through the emulator's client, by command name (a client middleware) */
const requests: string[] = [];

beforeAll(async () => {
  stack = await startStack('taste');
  stack.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const out = new PassThrough();
  void generateRatings({ users: 300, movies: 400, ratings: 12000, clusters: 4, seed: 1 }, out).then(() => out.end());
  snapshot = (await trainModel(out, {}, { sourceName: 'generated' })).snapshot; // the default algorithm
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** A store + API over fresh tables. */
async function runtime(stage: string) {
  const tables = await createTables(stack.dynamo, stage);
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({ doc, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 60_000 });
  const api = makeHandler({
    store,
    idempotency: idempotencyLayer(tables.idempotency, stack.dynamo),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await api(apiEvent(...args), lambdaContext);
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  return { store, doc, tables, call };
}

type Item = { movieId: number; score: number; reason: string };

/** Every user's top 10 through the API equals recommendFor on the in-memory model (ids, order and scores). */
async function expectSameAnswers(call: Awaited<ReturnType<typeof runtime>>['call'], model: ClusterModel, extraUsers: number[] = []) {
  let checked = 0;
  for (const userId of [...model.userIds, ...extraUsers]) {
    const want = recommendFor(model, userId, { n: 10 });
    const got = await call('GET', `/users/${userId}/recommendations`);
    expect(got.status).toBe(200);
    const items = got.json.items as Item[];
    // compare as one object so a failure names the user
    expect({ userId, source: got.json.source, ids: items.map((i) => i.movieId) }).toEqual({
      userId,
      source: want.source,
      ids: want.items.map((i) => i.movieId),
    });
    items.forEach((it, j) => expect(it.score).toBe(want.items[j].score));
    const i = userIndex(model, userId);
    expect(got.json.cluster).toBe(i < 0 ? null : model.userCluster[i]);
    checked++;
  }
  return checked;
}

test('the trained default model is CL-EASE: a mix per user, a local matrix per cluster, serving settings', () => {
  expect(snapshot.params.algorithm).toBe('taste');
  // so every comparison below with recommendFor checks the API's CL-EASE scoring, personal term included
  expect(snapshot.scoring).toBeDefined();
  expect(snapshot.clusters.every((c) => c.local !== undefined)).toBe(true);
  expect(snapshot.users.mix).toBeDefined();
  const { ptr } = snapshot.users.mix!;
  const sizes = snapshot.users.ids.map((_, i) => ptr[i + 1] - ptr[i]);
  expect(Math.max(...sizes)).toBeGreaterThan(1); // real mixes, not one cluster each
  expect(Math.max(...sizes)).toBeLessThanOrEqual(15); // 3 clusterings × 5 nearest: 60 counter keys, one BatchGetItem
});

test('published to DynamoDB, every user gets exactly recommendFor’s top 10, in ≤ 2 requests warm', async () => {
  const { store, call } = await runtime('t1');
  const { model } = fromSnapshot(structuredClone(snapshot));
  expect((await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k' }, { sourceOrder: '1' })).status).toBe('published');
  expect((await store.versionMeta('v1'))?.algorithm).toBe('taste');
  // the user item holds the mix exactly (weights round-trip bit for bit)
  const u = model.userIds[7];
  const user = await store.getUser('v1', u);
  const i = userIndex(model, u);
  expect(user?.mix).toEqual({
    clusters: model.mix!.clusters.slice(model.mix!.ptr[i], model.mix!.ptr[i + 1]),
    weights: model.mix!.weights.slice(model.mix!.ptr[i], model.mix!.ptr[i + 1]),
  });

  expect(await expectSameAnswers(call, model, [999_999])).toBe(301);

  // warm: pointer and every cluster's base list cached → one GetItem (user) + one BatchGetItem (all counters)
  const before = requests.length;
  for (const userId of model.userIds.slice(0, 50)) await call('GET', `/users/${userId}/recommendations`);
  const sent = requests.slice(before);
  expect(sent.length).toBe(100);
  expect(sent.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(50);
  expect(sent.filter((c) => c === 'GetItemCommand')).toHaveLength(50);

  // the reason names the contributing clusters (at most three, then how many more), all from the user's mix
  const res = await call('GET', `/users/${u}/recommendations`, { query: { n: '3' } });
  for (const it of res.json.items as Item[]) {
    const m = /\(clusters? ([\d, ]+?)(?: and (\d+) more)?\)$/.exec(it.reason)!;
    const named = m[1].split(', ').map(Number);
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThanOrEqual(3);
    for (const c of named) expect(user!.mix!.clusters).toContain(c);
    if (m[2]) expect(named.length + Number(m[2])).toBeLessThanOrEqual(user!.mix!.clusters.length);
  }
}, 60_000);

test('after favourites (existing users, a repeat, a new user) and after a publish that folds them, answers still match', async () => {
  const { store, call, doc, tables } = await runtime('t2');
  const { model } = fromSnapshot(structuredClone(snapshot));
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k1' }, { sourceOrder: '1' });

  // favourites: for a few users, a movie from the middle of their own recommendations (changes counts that
  // matter) and one the user's primary cluster list does not hold yet; then a repeat and a brand-new user
  const favs: Array<[number, number]> = [];
  for (const userId of model.userIds.filter((_, j) => j % 37 === 0)) {
    favs.push([userId, recommendFor(model, userId, { n: 10 }).items[4].movieId]);
  }
  const last = model.popular.movieIds[model.popular.movieIds.length - 1];
  favs.push([model.userIds[3], last], [model.userIds[5], last], [model.userIds[3], last], [123_456, model.popular.movieIds[0]]);
  for (const [userId, movieId] of favs) {
    const r = await call('POST', `/users/${userId}/movies`, { body: JSON.stringify({ movieId }) });
    expect(r.status).toBe(200);
    const core = addFavourite(model, userId, movieId);
    expect({ userId, movieId, cluster: r.json.cluster, added: r.json.added, newUser: r.json.newUser }).toEqual({
      userId,
      movieId,
      cluster: core.cluster,
      added: core.added,
      newUser: core.newUser,
    });
  }
  // the new user joined its cluster: the size counter was incremented once
  const placed = model.userCluster[userIndex(model, 123_456)];
  const [list] = await store.getClusterLists('v1', [placed]);
  expect(list.size).toBe(model.clusters.find((c) => c.id === placed)!.size);

  expect(await expectSameAnswers(call, model, [999_999])).toBe(model.userIds.length + 1);

  // a new publish of the same training data folds the recorded favourites into its base data
  await publishModel(store, modelOf(snapshot), 'v2', { bucket: 'b', key: 'k2' }, { sourceOrder: '2' });
  expect((await store.activeVersion({ fresh: true }))?.version).toBe('v2');
  expect(await expectSameAnswers(call, model, [999_999])).toBe(model.userIds.length + 1);
  // in v2 the favourites are base data (sizes, lists), not counters
  const counters = await doc.send(
    new QueryCommand({ TableName: tables.clusters, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.deltaPk('v2', placed) } }),
  );
  expect(counters.Items).toEqual([]);
  expect((await store.getClusterLists('v2', [placed]))[0].size).toBe(list.size);
}, 90_000);

test('a counter item that may be full sends its cluster to a Query, so overflow counters are still merged', async () => {
  const { store, doc, tables } = await runtime('t3');
  const { model } = fromSnapshot(structuredClone(snapshot));
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k' }, { sourceOrder: '1' });
  const [c, other] = model.mix!.clusters.slice(0, 2);
  const list = model.clusters.find((x) => x.id === c)!;
  const movie = list.movieIds[0];
  const pk = keys.deltaPk('v1', c);
  // a shard item of ~320 KB (17,000 counters of 16-digit ids; under the 400 KB limit, above FULL_SHARD_BYTES)
  const full: Record<string, unknown> = { pk, sk: 's#1' };
  for (let j = 0; j < 17_000; j++) full[keys.deltaAttr(4_000_000_000_000_000 + j * 4 + 1)] = 1;
  await doc.send(new PutCommand({ TableName: tables.clusters, Item: full }));
  // and a movie's own overflow item, which no BatchGetItem names
  await doc.send(new PutCommand({ TableName: tables.clusters, Item: { pk, sk: keys.deltaOverflowSk(movie), [keys.deltaAttr(movie)]: 2 } }));

  const before = requests.length;
  const [got, untouched] = await store.getClusterLists('v1', [c, other]);
  const sent = requests.slice(before).filter((n) => n !== 'GetItemCommand');
  expect(sent.filter((n) => n === 'BatchGetItemCommand')).toHaveLength(1);
  expect(sent.filter((n) => n === 'QueryCommand').length).toBeGreaterThanOrEqual(1); // the fallback (+ cold base lists)
  expect(got.counts[got.movieIds.indexOf(movie)]).toBe(list.counts[0] + 2);
  expect(got.movieIds.length).toBe(list.movieIds.length + 17_000);
  const otherList = model.clusters.find((x) => x.id === other)!;
  expect(untouched).toMatchObject({ id: other, size: otherList.size, movieIds: otherList.movieIds, counts: otherList.counts });
}, 60_000);

test('with a catalogue and filters, every user gets core’s ranking filtered then paged, in the same 2 requests warm; similar movies are 1 GetItem', async () => {
  const { store, call } = await runtime('t4');
  const { model } = fromSnapshot(structuredClone(snapshot));
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k' }, { sourceOrder: '1' });
  const catalogue = await readMovies(Readable.from([generateMovies({ movies: 400, seed: 1, clusters: 4 })]));
  await store.putMovies([...catalogue].map(([movieId, m]) => ({ movieId, ...m })), 'c1');
  const has = (m: number, g: string) => catalogue.get(m)?.genres.includes(g) ?? false;
  const filters: Array<[Record<string, string>, (m: number) => boolean]> = [
    [{ genre: 'Drama' }, (m) => has(m, 'Drama')],
    [{ excludeGenre: 'Drama,Comedy', exclude: '1,2,3,4,5,6,7,8,9,10' }, (m) => !has(m, 'Drama') && !has(m, 'Comedy') && m > 10],
  ];
  for (const userId of [...model.userIds.slice(0, 60), 999_999]) {
    const ranking = recommendFor(model, userId, { n: 10_000 }).items;
    for (const [query, keep] of filters) {
      const got = await call('GET', `/users/${userId}/recommendations`, { query: { ...query, offset: '2' } });
      expect({ userId, query, items: (got.json.items as Item[]).map((i) => [i.movieId, i.score]) }).toEqual({
        userId,
        query,
        items: ranking.filter((i) => keep(i.movieId)).slice(2, 12).map((i) => [i.movieId, i.score]),
      });
    }
  }
  const before = requests.length;
  for (const userId of model.userIds.slice(0, 30)) await call('GET', `/users/${userId}/recommendations`, { query: filters[1][0] });
  const sent = requests.slice(before);
  expect(sent.filter((c) => c === 'GetItemCommand')).toHaveLength(30);
  expect(sent.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(30);
  expect(sent).toHaveLength(60);

  const movie = model.clusters[0].movieIds[0];
  const at = requests.length;
  const similar = await call('GET', `/movies/${movie}/similar`, { query: { n: '20' } });
  expect(requests.slice(at)).toEqual(['GetItemCommand']);
  expect((similar.json.items as Item[]).map((i) => ({ movieId: i.movieId, score: i.score }))).toEqual(similarMovies(model, movie, 20));
  expect(similar.json.title).toBe(catalogue.get(movie)!.title);
}, 90_000);
