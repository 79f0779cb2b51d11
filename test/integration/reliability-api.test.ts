// Reliability matrix rows 13, 14 and 16 (RELIABILITY.md) through the API handler over the real DynamoDB store on
// dynalite, with the API key check on: every bad request gets its 4xx with a JSON {error, message} body and never
// a stack trace; an unknown user gets the popular list; an unknown movie is accepted as documented; a retried
// Idempotency-Key counts once; throttling answers 503 + Retry-After.
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { startStack } from '../support/emulators';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { publishModel } from '../../functions/app/publish';
import { idempotencyLayer } from '../support/idempotency';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const KEY = 'k3y-for-tests';
let stack: Awaited<ReturnType<typeof startStack>>;
let call: (method: string, path: string, opts?: Parameters<typeof apiEvent>[2], doc?: DynamoDBDocumentClient) => Promise<{
  status: number;
  headers: Record<string, string | number | boolean>;
  body: string;
  json: Record<string, any>;
}>;

beforeAll(async () => {
  stack = await startStack('relapi');
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 });
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'uploads/r.csv' }, { sourceOrder: '1' });
  call = async (method, path, opts = {}, d = doc) => {
    const api = makeApi({
      store: new DynamoModelStore({ doc: d, usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 }),
      idempotency: idempotencyLayer(stack.tables.idempotency, stack.dynamo),
      apiKey: KEY,
      logger: silentLogger(),
      metrics: quietMetrics(),
    });
    const headers = { 'x-api-key': KEY, ...opts.headers };
    const res = await api(apiEvent(method, path, { ...opts, headers }), lambdaContext);
    return { status: res.statusCode, headers: res.headers ?? {}, body: res.body, json: JSON.parse(res.body) };
  };
});
afterAll(async () => {
  await stack?.stop();
});

function expectJsonError(r: { json: Record<string, unknown>; body: string; headers: Record<string, unknown> }, error?: string) {
  expect(r.headers['Content-Type']).toBe('application/json');
  expect(Object.keys(r.json).sort()).toEqual(['error', 'message']);
  expect(typeof r.json.message).toBe('string');
  expect((r.json.message as string).length).toBeGreaterThan(5);
  if (error) expect(r.json.error).toBe(error);
  expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+|Error:|node_modules/);
}

describe('row 13: GET with a bad id / n / offset, an unknown user, no key, a wrong key', () => {
  test.each([
    ['/users/abc/recommendations'],
    ['/users/-1/recommendations'],
    ['/users/1.5/recommendations'],
    ['/users/1e3/recommendations'],
    ['/users/9007199254740992/recommendations'], // 2^53: not a safe integer
    ['/users/12345678901234567/movies'], // 17 digits
    ['/users/%20/movies'],
    ['/users/%E0%A4%A/movies'], // malformed percent-encoding
    ['/users/1%2F2/movies'],
  ])('bad user id: GET %s → 400 JSON', async (path) => {
    const r = await call('GET', path);
    expect(r.status).toBe(400);
    expectJsonError(r);
  });

  test.each([
    [{ n: '0' }],
    [{ n: '101' }],
    [{ n: '1.5' }],
    [{ n: '1e1' }],
    [{ n: '' }],
    [{ n: 'ten' }],
    [{ offset: '-1' }],
    [{ offset: '1000001' }],
    [{ offset: '0x10' }],
  ])('bad paging: %j → 400 JSON naming the parameter', async (query) => {
    const r = await call('GET', '/users/1/recommendations', { query });
    expect(r.status).toBe(400);
    expectJsonError(r, 'validation_error');
    expect(r.json.message).toContain(Object.keys(query)[0]);
  });

  test('an unknown user gets the popular list (200, source popular)', async () => {
    const r = await call('GET', '/users/424242/recommendations', { query: { n: '3' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ userId: 424242, source: 'popular', cluster: null, modelVersion: 'v1' });
    // hand-computed popular list of the example: 100:4, then 101:2 and 200:2 (id asc)
    expect(r.json.items.map((i: { movieId: number }) => i.movieId)).toEqual([100, 101, 200]);
    expect((await call('GET', '/users/424242/movies')).json).toMatchObject({ count: 0, movies: [] });
  });

  test.each([
    ['GET', '/users/1/recommendations'],
    ['GET', '/users/1/movies'],
    ['POST', '/users/1/movies'],
    ['GET', '/models/active'],
    ['GET', '/health'],
  ])('no key → 401, wrong key → 403, on %s %s', async (method, path) => {
    const none = await call(method, path, { headers: { 'x-api-key': '' }, body: '{"movieId": 1}' });
    expect(none.status).toBe(401);
    expectJsonError(none, 'unauthorized');
    for (const wrong of ['nope', KEY.slice(0, -1), KEY + 'x', KEY.toUpperCase()]) {
      const r = await call(method, path, { headers: { 'x-api-key': wrong }, body: '{"movieId": 1}' });
      expect(r.status).toBe(403);
      expectJsonError(r, 'forbidden');
    }
  });

  test('an unknown route or method → 404 JSON', async () => {
    for (const [m, p] of [
      ['GET', '/users'],
      ['GET', '/users/1/recommendations/extra'],
      ['PUT', '/users/1/movies'],
    ]) {
      const r = await call(m, p);
      expect(r.status).toBe(404);
      expectJsonError(r, 'not_found');
    }
  });
});

describe('row 14: POST bad JSON, an unknown movie, a retried Idempotency-Key', () => {
  test.each([
    ['{"movieId": '],
    ['not json'],
    ['[1]'],
    ['null'],
    ['{}'],
    ['{"movieId": "12"}'],
    ['{"movieId": 1.5}'],
    ['{"movieId": -1}'],
    ['{"movieId": 9007199254740992}'],
    ['{"movieId": 12, "extra": true}'],
    [''],
  ])('body %j → 400 JSON', async (body) => {
    const r = await call('POST', '/users/1/movies', { body });
    expect(r.status).toBe(400);
    expectJsonError(r);
  });

  test('an unknown movie is accepted (documented): appended to the cluster list with count 1, in the user history', async () => {
    const r = await call('POST', '/users/1/movies', { body: '{"movieId": 777777}' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ userId: 1, movieId: 777777, cluster: 0, added: true, count: 1, newUser: false });
    const mine = (await call('GET', '/users/1/movies')).json.movies.map((m: { movieId: number }) => m.movieId);
    expect(mine).toContain(777777);
    // user 3 (cluster 0, has 100, 104): 101:2, 102:1, 103:1, then the appended 777777:1
    const recs = await call('GET', '/users/3/recommendations', { query: { n: '10' } });
    expect(recs.json.items.map((i: { movieId: number }) => i.movieId)).toEqual([101, 102, 103, 777777]);
  });

  test('the same Idempotency-Key retried (sequentially and concurrently) counts once; reused for another body → 409', async () => {
    const headers = { 'idempotency-key': 'rel-api-1' };
    const first = await call('POST', '/users/2/movies', { body: '{"movieId": 104}', headers });
    expect(first.json).toMatchObject({ added: true, count: 2 }); // cluster 0 had 104:1
    const retries = await Promise.all(Array.from({ length: 8 }, () => call('POST', '/users/2/movies', { body: '{"movieId": 104}', headers })));
    for (const r of retries) {
      expect(r.status).toBe(200);
      expect(r.json).toEqual(first.json);
      expect(r.headers['Idempotent-Replayed']).toBe('true');
    }
    const other = await call('POST', '/users/2/movies', { body: '{"movieId": 102}', headers });
    expect(other.status).toBe(409);
    expectJsonError(other, 'idempotency_key_reused');
    // the count really is 2: another user of cluster 0 adding 104 makes it 3
    expect((await call('POST', '/users/1/movies', { body: '{"movieId": 104}' })).json.count).toBe(3);
  });
});

test('row 16: DynamoDB throttling on every GET route → 503 with Retry-After, JSON, no stack trace', async () => {
  const doc = makeDocClient(stack.dynamo);
  const mock = mockClient(doc);
  const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' });
  mock.on(GetCommand).rejects(throttled).on(QueryCommand).rejects(throttled).on(UpdateCommand).rejects(throttled);
  try {
    for (const path of ['/users/1/recommendations', '/users/1/movies', '/models/active']) {
      const r = await call('GET', path, {}, doc);
      expect(r.status).toBe(503);
      expect(r.headers['Retry-After']).toBe('1');
      expectJsonError(r, 'throttled');
    }
    const post = await call('POST', '/users/1/movies', { body: '{"movieId": 5}' }, doc);
    expect(post.status).toBe(503);
    expectJsonError(post, 'throttled');
  } finally {
    mock.restore();
  }
});
