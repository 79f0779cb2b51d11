// API handler with in-memory ports: every route, every error status, idempotency, and the JSON error shape.
import { generateOpenApi } from '../../tools/openapi/openapi';
import { makeHandler } from '../../functions/handlers/api';
import { FavouriteLimitError } from '../../functions/app/errors';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot } from '../support/model-fixtures';
import { apiEvent, FakeStore, MemoryIdempotency, lambdaContext, quietMetrics, silentLogger } from './handlers-fakes';

function setup(opts: { apiKey?: string; published?: boolean; corsOrigins?: string[] } = {}) {
  const store = new FakeStore();
  if (opts.published !== false) store.load(makeSnapshot(EXAMPLE_USERS, exampleCluster).snapshot);
  const idempotency = new MemoryIdempotency();
  const h = makeHandler({ store, idempotency, apiKey: opts.apiKey, corsOrigins: opts.corsOrigins, logger: silentLogger(), metrics: quietMetrics() });
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await h(apiEvent(...args), lambdaContext);
    return { ...res, json: JSON.parse(res.body) };
  };
  return { store, idempotency, call };
}

const errorShape = (json: Record<string, unknown>) => {
  expect(Object.keys(json).sort()).toEqual(['error', 'message']);
  expect(typeof json.message).toBe('string');
  expect(JSON.stringify(json)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
};

describe('routes', () => {
  test('GET /health', async () => {
    const { call } = setup();
    const r = await call('GET', '/health');
    expect(r.statusCode).toBe(200);
    expect(r.json).toEqual({ status: 'ok' });
  });

  test('recommendations for a known user: cluster list minus own movies, hand-computed', async () => {
    const { call, store } = setup();
    store.movies.set(101, { movieId: 101, title: 'Heat (1995)', genres: ['Action', 'Crime'] });
    // user 3 (cluster 0) has 100, 104; cluster 0 ranked 100:3, 101:2, 102:1, 103:1, 104:1
    const r = await call('GET', '/users/3/recommendations', { query: { n: '2' } });
    expect(r.statusCode).toBe(200);
    expect(r.json).toMatchObject({ userId: 3, modelVersion: 'v1', cluster: 0, source: 'cluster' });
    expect(r.json.items.map((i: { movieId: number; score: number }) => [i.movieId, i.score])).toEqual([
      [101, 2],
      [102, 1],
    ]);
    expect(r.json.items[0]).toMatchObject({ title: 'Heat (1995)', genres: ['Action', 'Crime'] });
    const paged = await call('GET', '/users/3/recommendations', { query: { n: '2', offset: '1' } });
    expect(paged.json.items.map((i: { movieId: number }) => i.movieId)).toEqual([102, 103]);
  });

  test('seed model: filters, and reasons naming a watched movie typical of the cluster (hand-computed)', async () => {
    const { call, store } = setup();
    // no catalogue: a genre filter is refused, ids can still be excluded
    expect((await call('GET', '/users/3/recommendations', { query: { genre: 'Comedy' } })).json).toMatchObject({ error: 'no_catalogue' });
    const ex = await call('GET', '/users/3/recommendations', { query: { exclude: '101,103' } });
    expect(ex.json.items.map((i: { movieId: number }) => i.movieId)).toEqual([102]);
    expect(ex.json.items[0].reason).toBe('liked by 1 user(s) in your cluster');
    const movies: Array<[number, string, string[]]> = [
      [100, 'Toy Story (1995)', ['Animation', 'Comedy']],
      [101, 'Heat (1995)', ['Action', 'Crime']],
      [102, 'Clueless (1995)', ['Comedy']],
      [103, 'Casino (1995)', ['Crime', 'Drama']],
      [104, 'Othello (1995)', ['Drama']],
    ];
    for (const [movieId, title, genres] of movies) store.movies.set(movieId, { movieId, title, genres });
    // cluster 0 (users 1-3 of 5): share · ln(share / overall share) → 101: ⅔·ln(⅔/⅖) = 0.34, 100: 1·ln(1/⅘) = 0.22,
    // 102-104: ⅓·ln(⅓/⅕) = 0.17 each; user 3 watched 100 and 104, so 100 is the one named
    const r = await call('GET', '/users/3/recommendations', { query: { genre: 'crime' } });
    expect(r.json.items).toEqual([
      { movieId: 101, title: 'Heat (1995)', genres: ['Action', 'Crime'], score: 2, reason: 'because you watched Toy Story (1995): liked by 2 user(s) in your cluster', because: 100 },
      { movieId: 103, title: 'Casino (1995)', genres: ['Crime', 'Drama'], score: 1, reason: 'because you watched Toy Story (1995): liked by 1 user(s) in your cluster', because: 100 },
    ]);
    expect((await call('GET', '/users/3/recommendations', { query: { excludeGenre: 'Action', n: '1', offset: '1' } })).json.items.map((i: { movieId: number }) => i.movieId)).toEqual([103]);
    const unknown = await call('GET', '/users/3/recommendations', { query: { genre: 'Western' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json).toEqual({ error: 'unknown_genre', message: 'genre: the catalogue has no genre "Western"; its genres are Action, Animation, Comedy, Crime, Drama.' });
    // popular answers (unknown users) are filtered too, and name no watched movie
    const pop = await call('GET', '/users/999/recommendations', { query: { genre: 'Drama' } });
    expect(pop.json.items.map((i: { movieId: number; reason: string }) => [i.movieId, i.reason])).toEqual([
      [103, 'liked by 1 user(s) overall'],
      [104, 'liked by 1 user(s) overall'],
    ]);
  });

  test('GET /movies/{id}/similar: the stored list with titles; an unknown movie is a 404 JSON', async () => {
    const { call, store } = setup();
    store.movies.set(101, { movieId: 101, title: 'Heat (1995)', genres: ['Action'] });
    const r = await call('GET', '/movies/100/similar', { query: { n: '2' } });
    expect(r.statusCode).toBe(200);
    expect(r.json.movieId).toBe(100);
    expect(r.json.items).toHaveLength(2);
    // 101: only in cluster 0, count 2 of 3 users, with 100 (3 of 3): 3·2/3 / √(4·2) = 0.7071 — the best
    expect(r.json.items[0]).toEqual({ movieId: 101, title: 'Heat (1995)', genres: ['Action'], score: 0.7071 });
    const missing = await call('GET', '/movies/555/similar');
    expect(missing.statusCode).toBe(404);
    errorShape(missing.json);
    expect(missing.json.error).toBe('unknown_movie');
    expect((await call('GET', '/movies/100/similar', { query: { n: '0' } })).statusCode).toBe(400);
  });

  test('an unknown user gets the popular list (nothing excluded)', async () => {
    const { call } = setup();
    const r = await call('GET', '/users/999/recommendations', { query: { n: '3' } });
    expect(r.statusCode).toBe(200);
    expect(r.json).toMatchObject({ source: 'popular', cluster: null });
    // popular: 100:4, then 101:2 and 200:2 (id asc)
    expect(r.json.items.map((i: { movieId: number }) => i.movieId)).toEqual([100, 101, 200]);
  });

  test('GET /users/{id}/movies and POST a favourite', async () => {
    const { call } = setup();
    expect((await call('GET', '/users/3/movies')).json).toMatchObject({ count: 2, movies: [{ movieId: 100 }, { movieId: 104 }] });
    const post = await call('POST', '/users/3/movies', { body: '{"movieId": 103}' });
    expect(post.statusCode).toBe(200);
    // cluster 0 had 103:1 → 2
    expect(post.json).toMatchObject({ userId: 3, movieId: 103, cluster: 0, added: true, count: 2, newUser: false });
    expect((await call('GET', '/users/3/movies')).json.count).toBe(3);
    const again = await call('POST', '/users/3/movies', { body: '{"movieId": 103}' });
    expect(again.json).toMatchObject({ added: false, count: 2 });
  });

  test('GET /models/active and /openapi.json', async () => {
    const { call } = setup();
    const m = await call('GET', '/models/active');
    expect(m.statusCode).toBe(200);
    expect(m.json).toMatchObject({ version: 'v1', users: 5, clusters: [{ id: 0, size: 3 }, { id: 1, size: 2 }] });
    const o = await call('GET', '/openapi.json');
    expect(o.statusCode).toBe(200);
    expect(o.json.openapi).toMatch(/^3\./);
    // the handler serves the committed file; it must be what the schemas generate now
    expect(o.json).toEqual(generateOpenApi());
  });
});

describe('idempotency', () => {
  test('a retried request with the same key replays the first response and counts once', async () => {
    const { call, store } = setup();
    const headers = { 'Idempotency-Key': 'abc-1' };
    const first = await call('POST', '/users/1/movies', { body: '{"movieId": 104}', headers });
    const second = await call('POST', '/users/1/movies', { body: '{"movieId": 104}', headers });
    expect(first.json).toMatchObject({ added: true, count: 2 });
    expect(second.statusCode).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(second.headers?.['Idempotent-Replayed']).toBe('true');
    expect(store.favourites.length).toBe(1);
  });

  test('the same key with another body → 409; a key still running → 409', async () => {
    const { call, idempotency } = setup();
    const headers = { 'idempotency-key': 'k2' };
    await call('POST', '/users/1/movies', { body: '{"movieId": 104}', headers });
    const other = await call('POST', '/users/1/movies', { body: '{"movieId": 103}', headers });
    expect(other.statusCode).toBe(409);
    expect(other.json.error).toBe('idempotency_key_reused');
    await idempotency.saveInProgress({ key: 'k3', userId: 1, movieId: 103 }, 10_000); // another request with k3 is running
    const running = await call('POST', '/users/1/movies', { body: '{"movieId": 103}', headers: { 'idempotency-key': 'k3' } });
    expect(running.statusCode).toBe(409);
    expect(running.json.error).toBe('request_in_progress');
  });

  test('a failed request releases its key so a retry runs', async () => {
    const { call, store } = setup();
    store.failNext = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
    const headers = { 'idempotency-key': 'k4' };
    const failed = await call('POST', '/users/1/movies', { body: '{"movieId": 104}', headers });
    expect(failed.statusCode).toBe(503);
    const retry = await call('POST', '/users/1/movies', { body: '{"movieId": 104}', headers });
    expect(retry.statusCode).toBe(200);
    expect(retry.json.added).toBe(true);
  });
});

describe('errors are JSON {error, message} with the right status', () => {
  test.each([
    ['bad user id', 'GET', '/users/abc/recommendations', {}, 400],
    ['negative user id', 'GET', '/users/-1/recommendations', {}, 400],
    ['float user id', 'GET', '/users/1.5/movies', {}, 400],
    ['n = 0', 'GET', '/users/1/recommendations', { query: { n: '0' } }, 400],
    ['n > 100', 'GET', '/users/1/recommendations', { query: { n: '101' } }, 400],
    ['n not a number', 'GET', '/users/1/recommendations', { query: { n: 'ten' } }, 400],
    ['negative offset', 'GET', '/users/1/recommendations', { query: { offset: '-3' } }, 400],
    ['bad JSON', 'POST', '/users/1/movies', { body: '{"movieId": ' }, 400],
    ['no body', 'POST', '/users/1/movies', {}, 400],
    ['movieId a string', 'POST', '/users/1/movies', { body: '{"movieId": "12"}' }, 400],
    ['extra field', 'POST', '/users/1/movies', { body: '{"movieId": 12, "x": 1}' }, 400],
    ['bad idempotency key', 'POST', '/users/1/movies', { body: '{"movieId": 12}', headers: { 'idempotency-key': 'a b' } }, 400],
    ['unknown route', 'GET', '/nope', {}, 404],
    ['wrong method', 'DELETE', '/users/1/movies', {}, 404],
  ] as const)('%s: %s %s %j → %i', async (_name, method, path, opts, status) => {
    const { call } = setup();
    const r = await call(method, path, opts as Parameters<typeof apiEvent>[2]);
    expect(r.statusCode).toBe(status);
    expect(r.headers?.['Content-Type']).toBe('application/json');
    errorShape(r.json);
  });

  test('x-api-key: missing → 401, wrong → 403, right → 200 (when MOVIEREC_API_KEY is set)', async () => {
    const { call } = setup({ apiKey: 'secret' });
    const missing = await call('GET', '/health');
    expect(missing.statusCode).toBe(401);
    errorShape(missing.json);
    const wrong = await call('GET', '/users/1/recommendations', { headers: { 'x-api-key': 'nope' } });
    expect(wrong.statusCode).toBe(403);
    errorShape(wrong.json);
    expect((await call('GET', '/health', { headers: { 'X-Api-Key': 'secret' } })).statusCode).toBe(200);
  });

  test('no model published yet → 503 with Retry-After', async () => {
    const { call } = setup({ published: false });
    for (const path of ['/users/1/recommendations', '/users/1/movies', '/models/active']) {
      const r = await call('GET', path);
      expect(r.statusCode).toBe(503);
      expect(r.json.error).toBe('no_model');
      expect(Number(r.headers?.['Retry-After'])).toBeGreaterThan(0);
    }
  });

  test('DynamoDB throttling → 503 with Retry-After, no stack', async () => {
    const { call, store } = setup();
    store.failNext = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const r = await call('GET', '/users/1/recommendations');
    expect(r.statusCode).toBe(503);
    expect(r.json.error).toBe('throttled');
    expect(r.headers?.['Retry-After']).toBe('1');
    errorShape(r.json);
  });

  test('too many favourites in one version → 409 favourite_limit', async () => {
    const { call, store } = setup();
    store.failNext = new FavouriteLimitError(5000);
    const r = await call('POST', '/users/1/movies', { body: '{"movieId": 7}' });
    expect(r.statusCode).toBe(409);
    expect(r.json.error).toBe('favourite_limit');
    errorShape(r.json);
  });

  test('an unexpected error → 500 without details', async () => {
    const { call, store } = setup();
    store.failNext = new Error('secret internal detail at foo.ts:12');
    const r = await call('GET', '/users/1/movies');
    expect(r.statusCode).toBe(500);
    errorShape(r.json);
    expect(r.body).not.toContain('secret internal detail');
  });
});

describe('CORS', () => {
  test('a listed origin gets Access-Control-Allow-Origin on answers and errors alike; others and no config get none', async () => {
    const { call } = setup({ corsOrigins: ['https://app.example.com', 'https://admin.example.com'] });
    const ok = await call('GET', '/users/3/recommendations', { headers: { Origin: 'https://app.example.com' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers?.['Access-Control-Allow-Origin']).toBe('https://app.example.com');
    expect(ok.headers?.Vary).toMatch(/Origin/);
    const bad = await call('GET', '/users/abc/recommendations', { headers: { Origin: 'https://admin.example.com' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers?.['Access-Control-Allow-Origin']).toBe('https://admin.example.com');
    const other = await call('GET', '/users/3/recommendations', { headers: { Origin: 'https://evil.example.com' } });
    expect(other.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    const none = await setup().call('GET', '/users/3/recommendations', { headers: { Origin: 'https://app.example.com' } });
    expect(none.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });
});
