// End to end on dynalite + s3rver through the real SDK: upload → S3 event → training Lambda → pointer flip →
// API answers; redelivery; malformed upload; out-of-order events; movies.csv; concurrent favourites with
// Idempotency-Key; GETs and POSTs during a publish; DynamoDB throttling on GET (aws-sdk-client-mock).
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { S3Event } from 'aws-lambda';
import { addFavourite, recommend } from '../../functions/core/model';
import { fromSnapshot } from '../../functions/core/snapshot';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { S3RatingsSource, S3ReportStore } from '../../functions/adapters/s3';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { versionIdOf } from '../../functions/app/upload';
import { makeHandler as makeTrain } from '../../functions/handlers/train';
import { startStack } from '../support/emulators';
import { makeSnapshot, modelOf } from '../support/model-fixtures';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { publishModel } from '../../functions/app/publish';
import { idempotencyLayer } from '../support/idempotency';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let events: S3Event[] = [];

beforeAll(async () => {
  stack = await startStack('e2e');
  stack.s3rver.on('event', (e) => events.push(e as unknown as S3Event));
});
afterAll(async () => {
  await stack?.stop();
});

function runtime() {
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 });
  const train = makeTrain({
    source: new S3RatingsSource(stack.s3),
    reports: new S3ReportStore(stack.s3, stack.bucket),
    store: new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 }),
    params: { algorithm: 'seed', k: 2, nInit: 2, maxIter: 50, minClusterSize: 2 }, // these tests check the seed's cluster semantics (core recommend)
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const api = makeApi({
    store,
    idempotency: idempotencyLayer(stack.tables.idempotency, stack.dynamo),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  // 100 concurrent requests on one in-process dynalite can take longer than a real invocation's few ms on a
  // loaded machine; middy would answer them with its early timeout, which is not what these tests are about
  const roomyContext = { ...lambdaContext, getRemainingTimeInMillis: () => 120_000 };
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await api(apiEvent(...args), roomyContext);
    return { ...res, json: JSON.parse(res.body) };
  };
  return { store, train: (e: S3Event) => train(e, lambdaContext), call };
}

/** Two taste groups: users 1..12 watch movies 1..8, users 21..32 watch movies 11..18 (a few each). */
function ratingsCsv(shift = 0): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 12; u++) for (let m = 1; m <= 8; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  for (let u = 21; u <= 32; u++) for (let m = 11; m <= 18; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  return lines.join('\n') + '\n';
}

async function upload(key: string, body: string): Promise<S3Event> {
  events = [];
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
  for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(events.length).toBe(1);
  return events[0];
}

const ids = (items: Array<{ movieId: number }>) => items.map((i) => i.movieId);

test('upload → event → training → flip → the API answers; the same event again → one version', async () => {
  const { train, call, store } = runtime();
  expect((await call('GET', '/users/1/recommendations')).statusCode).toBe(503);
  const ev = await upload('uploads/first ratings.csv', ratingsCsv());
  const out = await train(ev);
  expect(out.results[0].status).toBe('published');
  const version = out.results[0].version!;
  const r = await call('GET', '/users/1/recommendations', { query: { n: '5' } });
  expect(r.statusCode).toBe(200);
  expect(r.json).toMatchObject({ modelVersion: version, source: 'cluster' });
  // user 1 is in the 1..8 group: recommendations come from that group and exclude the user's movies
  const mine = (await call('GET', '/users/1/movies')).json.movies.map((m: { movieId: number }) => m.movieId);
  for (const m of ids(r.json.items)) {
    expect(m).toBeLessThanOrEqual(8);
    expect(mine).not.toContain(m);
  }
  const again = await train(ev);
  expect(again.results[0]).toMatchObject({ status: 'already-published', version });
  expect((await store.activeVersion({ fresh: true }))?.version).toBe(version);
  const active = await call('GET', '/models/active');
  expect(active.json).toMatchObject({ version, users: 24, summary: { reportKey: `reports/models/${version}.json` } });
  const report = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: `reports/models/${version}.json` }));
  expect(JSON.parse(await report.Body!.transformToString())).toMatchObject({ status: 'trained', version });
});

test('a key with spaces, + and unicode arrives URL-encoded (as real S3 sends it) and is decoded', async () => {
  const { train } = runtime();
  const key = 'uploads/my ratings+v2 été.csv';
  const ev = await upload(key, ratingsCsv(5));
  // s3rver sends raw keys; real S3 encodes them with '+' for spaces
  ev.Records[0].s3.object.key = key.split('/').map((p) => encodeURIComponent(p).replace(/%20/g, '+')).join('/');
  expect(ev.Records[0].s3.object.key).toBe('uploads/my+ratings%2Bv2+%C3%A9t%C3%A9.csv');
  const out = await train(ev);
  expect(out.results[0]).toMatchObject({ key, status: 'published' });
});

test('a malformed upload: the old model still answers and reports/<key>.json explains why', async () => {
  const { train, call, store } = runtime();
  const before = (await store.activeVersion({ fresh: true }))?.version;
  expect(before).toBeDefined();
  const ev = await upload('uploads/broken.csv', 'this is not,a ratings\nfile at,all\n');
  const out = await train(ev);
  expect(out.results[0]).toMatchObject({ status: 'rejected', reportKey: 'reports/uploads/broken.csv.json' });
  expect((await call('GET', '/users/1/recommendations')).json.modelVersion).toBe(before);
  const obj = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: 'reports/uploads/broken.csv.json' }));
  const report = JSON.parse(await obj.Body!.transformToString());
  expect(report.status).toBe('rejected');
  expect(typeof report.reason.code).toBe('string');
  expect(report.reason.message.length).toBeGreaterThan(10);
});

test('events out of order: the newer object wins and the stale publish is refused', async () => {
  const { train, store } = runtime();
  const older = await upload('uploads/a.csv', ratingsCsv(1));
  const newer = await upload('uploads/b.csv', ratingsCsv(2));
  // make the order unambiguous whatever the clock resolution
  older.Records[0].eventTime = '2030-01-01T00:00:00.000Z';
  newer.Records[0].eventTime = '2030-01-01T00:00:01.000Z';
  expect((await train(newer)).results[0].status).toBe('published');
  expect((await train(older)).results[0].status).toBe('stale');
  const newerVersion = versionIdOf({ bucket: stack.bucket, key: 'uploads/b.csv', etag: newer.Records[0].s3.object.eTag.replace(/"/g, '') });
  expect((await store.activeVersion({ fresh: true }))?.version).toBe(newerVersion);
});

test('movies.csv gives titles and genres', async () => {
  const { train } = runtime();
  const csv = ['movieId,title,genres', ...Array.from({ length: 20 }, (_, i) => `${i + 1},"Film ${i + 1}, The (2000)",Drama|Comedy`)].join('\n');
  expect((await train(await upload('uploads/movies.csv', csv))).results[0].status).toBe('movies-loaded');
  // a fresh Lambda (empty catalogue cache)
  const r = await runtime().call('GET', '/users/1/recommendations', { query: { n: '1' } });
  expect(r.json.items[0].title).toBe(`Film ${r.json.items[0].movieId}, The (2000)`);
  expect(r.json.items[0].genres).toEqual(['Drama', 'Comedy']);
});

test('100 concurrent POSTs with distinct keys count +100; one key repeated counts +1', async () => {
  const { call } = runtime();
  // new users 5000.. all favourite movie 3: each is placed in the lowest cluster holding movie 3
  const first = await call('POST', '/users/4999/movies', { body: '{"movieId": 3}', headers: { 'idempotency-key': 'warm' } });
  expect(first.statusCode).toBe(200);
  const start = first.json.count;
  const res = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      call('POST', `/users/${5000 + i}/movies`, { body: '{"movieId": 3}', headers: { 'idempotency-key': `k-${i}` } }),
    ),
  );
  expect(res.filter((r) => !(r.statusCode === 200 && r.json.added)).map((r) => [r.statusCode, r.json])).toEqual([]);
  const counts = res.map((r) => r.json.count).sort((a, b) => a - b);
  expect(counts).toEqual(Array.from({ length: 100 }, (_, i) => start + 1 + i)); // each ADD saw a distinct value
  const after = await call('POST', '/users/4999/movies', { body: '{"movieId": 3}' });
  expect(after.json).toMatchObject({ added: false, count: start + 100 });

  // one key, retried: 3 sequential + 10 concurrent deliveries → counted once
  const h = { 'idempotency-key': 'same-key' };
  const r1 = await call('POST', '/users/6000/movies', { body: '{"movieId": 3}', headers: h });
  const retries = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/users/6000/movies', { body: '{"movieId": 3}', headers: h })));
  for (const r of retries) expect(r.json).toEqual(r1.json);
  const check = await call('POST', '/users/4999/movies', { body: '{"movieId": 3}' });
  expect(check.json.count).toBe(start + 101);
});

test('GETs during a publish see one version or the other, never a mix; POSTs during it are not lost', async () => {
  const { call, store } = runtime();
  const v1 = (await store.activeVersion({ fresh: true }))!.version;
  // answers of the current version for a few users, from the API before the publish
  const usersToCheck = [1, 2, 21, 22, 999];
  const answers = new Map<string, string>();
  for (const u of usersToCheck) {
    answers.set(`${v1}:${u}`, JSON.stringify(ids((await call('GET', `/users/${u}/recommendations`)).json.items)));
  }
  // v2: a model with different clusters, published directly through the store
  const users: Record<number, number[]> = {};
  for (let u = 1; u <= 32; u++) users[u] = [40 + (u % 4), 50 + (u % 3), 60];
  const { snapshot } = makeSnapshot(users, (u) => u % 2);
  const v2 = 'mixcheck';
  // the publish folds every favourite recorded so far (earlier tests added some): so does the expected model
  const v2model = fromSnapshot(structuredClone(snapshot)).model;
  for (const f of await store.listFavourites()) addFavourite(v2model, f.userId, f.movieId);

  let publishing = true;
  const seen: Array<{ version: string; user: number; items: string }> = [];
  const readers = (async () => {
    while (publishing) {
      const rs = await Promise.all(usersToCheck.map((u) => call('GET', `/users/${u}/recommendations`)));
      rs.forEach((r, i) => seen.push({ version: r.json.modelVersion, user: usersToCheck[i], items: JSON.stringify(ids(r.json.items)) }));
    }
  })();
  const posts = (async () => {
    const out = [];
    for (let i = 0; i < 15 && publishing; i++) {
      out.push(await call('POST', `/users/${7000 + i}/movies`, { body: '{"movieId": 60}' }));
    }
    return out;
  })();
  const pub = await publishModel(store, modelOf(snapshot), v2, { bucket: 'b', key: 'uploads/mix.csv', etag: 'm' }, {
    sourceOrder: '2099-01-01T00:00:00.000Z#',
  });
  publishing = false;
  await readers;
  const posted = await posts;
  expect(pub.status).toBe('published');
  expect(seen.some((s) => s.version === v1)).toBe(true); // reads really overlapped the publish
  for (const s of seen) {
    if (s.version === v1) {
      expect(s.items).toBe(answers.get(`${v1}:${s.user}`));
    } else {
      expect(s.version).toBe(v2);
      // v2 answer as the core computes it (user 999 unknown → popular); favourites posted during the publish
      // only add movie 60, which every v2 user already has and which tops the popular list anyway
      expect(s.items).toBe(JSON.stringify(ids(recommend(v2model, s.user, { n: 10 }).items)));
    }
  }
  // every favourite posted during the publish is in the new version
  for (const p of posted) {
    expect(p.statusCode).toBe(200);
    const mine = await call('GET', `/users/${p.json.userId}/movies`);
    expect(mine.json.modelVersion).toBe(v2);
    expect(ids(mine.json.movies)).toContain(60);
  }
});

test('DynamoDB throttling on a GET → 503 with Retry-After (fault injected with aws-sdk-client-mock)', async () => {
  const doc = makeDocClient(stack.dynamo);
  const mock = mockClient(DynamoDBDocumentClient);
  try {
    mock.callsFake(() => ({ Item: { version: 'x', sourceOrder: '', source: {}, activatedAt: '' } })); // the pointer
    mock.on(QueryCommand).rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    const api = makeApi({
      store: new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters }),
      idempotency: idempotencyLayer(stack.tables.idempotency, stack.dynamo),
      logger: silentLogger(),
      metrics: quietMetrics(),
    });
    const res = await api(apiEvent('GET', '/users/1/recommendations'), lambdaContext);
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
    expect(JSON.parse(res.body).error).toBe('throttled');
  } finally {
    mock.restore();
  }
});
