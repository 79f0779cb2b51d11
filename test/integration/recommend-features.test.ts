// What teams expect from a recommendation service, on the local stack (`movierec local` in-process: s3rver,
// dynalite, the S3-event bridge, the training handler and the API behind the API Gateway adapter, over HTTP):
// filters on recommendations (and their edge cases), similar movies, the batch export after a publish, titles
// and reasons. The CLI is run as a user runs it (bin/movierec.js) on a model trained from the same file with the
// stage's parameters: the API's similar movies and the export must equal what the CLI answers for it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/adapters/dynamo/layout';
import { makeDocClient } from '../../functions/adapters/aws';
import type { UploadResult } from '../../functions/app/upload';
import { STAGE_CONFIG } from '../../lib/config';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../local/emulators';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { generateMovies, generateRatings, MOVIELENS_GENRES } from '../../offline/generate';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = join(__dirname, '..', '..');
const cli = (args: string[]) => promisify(execFile)(process.execPath, [join(root, 'bin', 'movierec.js'), ...args], { cwd: root, maxBuffer: 1 << 26 });
const GEN = { users: 400, movies: 300, ratings: 16_000, clusters: 5 };
const TOP_N = 10;

let dir: string;
let stack: LocalStack;
let base: string;
let ratingsFile: string;
let cliModel: string;
let version: string;
const results: UploadResult[] = [];

async function writeRatings(file: string, seed: number): Promise<void> {
  const out = createWriteStream(file);
  await generateRatings({ ...GEN, seed }, out);
  out.end();
  await new Promise<void>((r) => out.on('finish', () => r()));
}

type Json = Record<string, any>;
async function get(path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, { headers: { 'x-api-key': 'features-key' } });
  return { status: res.status, body: (await res.json()) as Json };
}
const ids = (body: Json) => (body.items as Json[]).map((i) => i.movieId as number);

async function uploadAndWait(file: string, key: string): Promise<string | null> {
  await stack.upload(file, key);
  await stack.bridge.idle();
  return stack.activeVersion();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'movierec-features-'));
  stack = await startLocalStack({
    dataDir: join(dir, 'data'),
    fresh: true,
    port: 0,
    s3Port: 0,
    apiKey: 'features-key',
    trainingParams: STAGE_CONFIG.dev.training.params,
    exportTopN: TOP_N,
    retryAttempts: 0,
    onBridgeEvent: (e) => {
      if (e.type === 'done') results.push(...e.results);
    },
  });
  base = `http://127.0.0.1:${stack.apiPort}`;
  ratingsFile = join(dir, 'ratings.csv');
  await writeRatings(ratingsFile, 3);
  version = (await uploadAndWait(ratingsFile, 'uploads/ratings.csv'))!;
  expect(version).toBeTruthy();
  // the same file and the stage's parameters through the CLI (a separate process)
  const p = STAGE_CONFIG.dev.training.params;
  cliModel = join(dir, 'cli-model.json');
  await cli(['train', '--ratings', ratingsFile, '--out', cliModel, '--algorithm', p.algorithm!, '--n-init', String(p.nInit), '--random-state', String(p.randomState), '--quiet']);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('filters before the catalogue is loaded', () => {
  test('a genre filter is a 400 that says the catalogue is missing; excluding ids needs none', async () => {
    for (const q of ['genre=Comedy', 'excludeGenre=Horror']) {
      const r = await get(`/users/1/recommendations?${q}`);
      expect(r).toEqual({ status: 400, body: { error: 'no_catalogue', message: expect.stringMatching(/movie catalogue.*movies\.csv/) } });
    }
    const plain = await get('/users/1/recommendations?n=5');
    const skip = ids(plain.body).slice(0, 2);
    const r = await get(`/users/1/recommendations?n=5&exclude=${skip.join(',')}`);
    expect(r.status).toBe(200);
    expect(ids(r.body)).toHaveLength(5);
    expect(ids(r.body)).toEqual((await get('/users/1/recommendations?n=7')).body.items.map((i: Json) => i.movieId).slice(2));
  });

  test('without a catalogue the reasons name clusters only, as before', async () => {
    const r = await get('/users/1/recommendations?n=3');
    for (const it of r.body.items) {
      expect(it.reason).toMatch(/^popular with users like you \(clusters? [\d, ]+( and \d+ more)?\)$/);
      // at most three clusters named; past three, the three that count the movie most and how many more do
      const named = /\(clusters? ([\d, ]+)/.exec(it.reason)![1].split(', ');
      expect(named.length).toBeLessThanOrEqual(3);
      if (/ more\)$/.test(it.reason)) expect(named).toHaveLength(3);
      expect(it.because).toBeUndefined();
    }
  });
});

describe('with the catalogue (movies.csv)', () => {
  beforeAll(async () => {
    const file = join(dir, 'movies.csv');
    const text = generateMovies({ movies: GEN.movies, seed: 3, clusters: GEN.clusters });
    writeFileSync(file, text);
    await stack.upload(file, 'uploads/movies.csv');
    await stack.bridge.idle();
    expect(results.at(-1)?.status).toBe('movies-loaded');
    // the local API caches the catalogue for 1 s
    await new Promise((r) => setTimeout(r, 1100));
  });

  // users of each kind: the first trained users, and one the model does not know (the popular list)
  const USERS = [1, 2, 3, 50, 123, 999_999];

  test('genre keeps only movies of that genre, excludeGenre none of it, exclude drops ids — and pages stay n long', async () => {
    let full = 0;
    for (const u of USERS) {
      // the whole unfiltered ranking, page by page (n is at most 100)
      const all: Json[] = [];
      for (let offset = 0; ; offset += 100) {
        const page = (await get(`/users/${u}/recommendations?n=100&offset=${offset}`)).body.items as Json[];
        if (page.length === 0) break;
        all.push(...page);
      }
      const cases: Array<[string, (it: Json) => boolean]> = [
        ['genre=Drama', (it) => it.genres.includes('Drama')],
        ['genre=comedy,ACTION', (it) => it.genres.includes('Comedy') || it.genres.includes('Action')],
        ['excludeGenre=Drama', (it) => !it.genres.includes('Drama')],
        [`genre=Drama&excludeGenre=Comedy&exclude=${all.slice(0, 30).map((i) => i.movieId).join(',')}`, (it) => it.genres.includes('Drama') && !it.genres.includes('Comedy') && !all.slice(0, 30).some((x) => x.movieId === it.movieId)],
      ];
      for (const [q, keep] of cases) {
        for (const offset of [0, 3]) {
          const r = await get(`/users/${u}/recommendations?n=${TOP_N}&offset=${offset}&${q}`);
          expect(r.status).toBe(200);
          // exactly the unfiltered ranking, filtered, then paged: the same scores, n items when enough pass
          const want = all.filter(keep).slice(offset, offset + TOP_N);
          if (all.filter(keep).length >= offset + TOP_N) full++;
          expect({ u, q, offset, items: r.body.items.map((i: Json) => [i.movieId, i.score]) }).toEqual({ u, q, offset, items: want.map((i) => [i.movieId, i.score]) });
        }
      }
    }
    expect(full).toBeGreaterThan(20); // most cases had enough movies for a full page, and got it
  });

  test('edge cases: an unknown genre is a 400 naming the genres; every item excluded and offset past the end are empty pages', async () => {
    const unknown = await get('/users/1/recommendations?genre=Comdy');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('unknown_genre');
    expect(unknown.body.message).toMatch(/^genre: the catalogue has no genre "Comdy"; its genres are Action, Adventure, /);
    expect((await get('/users/1/recommendations?excludeGenre=Westrn')).body.error).toBe('unknown_genre');

    const every = await get(`/users/1/recommendations?genre=Drama&excludeGenre=${encodeURIComponent('Drama')}`);
    expect(every).toEqual({ status: 200, body: expect.objectContaining({ userId: 1, source: 'cluster', items: [] }) });
    const allIds = Array.from({ length: GEN.movies }, (_, i) => i + 1);
    const excludedAll = await get(`/users/1/recommendations?exclude=${allIds.join(',')}`);
    expect(excludedAll.status).toBe(200);
    expect(excludedAll.body.items).toEqual([]);
    const past = await get('/users/1/recommendations?genre=Drama&offset=100000');
    expect(past.status).toBe(200);
    expect(past.body.items).toEqual([]);
    expect((await get('/users/999999/recommendations?offset=100000')).body.items).toEqual([]);
  });

  test.each([
    ['exclude=abc', /exclude must be 1-500 comma-separated movie ids/],
    ['exclude=1,,2', /exclude must be/],
    [`exclude=${Array.from({ length: 501 }, (_, i) => i).join(',')}`, /exclude must be 1-500/],
    ['genre=', /genre must be 1-20 comma-separated genre names/],
    [`excludeGenre=${'x'.repeat(65)}`, /excludeGenre must be/],
  ])('a malformed filter %#: 400 JSON naming the parameter', async (q, message) => {
    const r = await get(`/users/1/recommendations?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'validation_error', message: expect.stringMatching(message) });
  });

  test('items carry title and genres; each reason names a watched movie typical of its cluster', async () => {
    const catalogue = new Map<number, string>();
    for (const line of readFileSync(join(dir, 'movies.csv'), 'utf8').trim().split('\n').slice(1)) {
      const m = /^(\d+),("?)(.*)\2,[^,]*$/.exec(line)!;
      catalogue.set(Number(m[1]), m[3]);
    }
    let named = 0;
    for (const u of [1, 2, 3, 50, 123]) {
      const mine = new Set(((await get(`/users/${u}/movies`)).body.movies as Json[]).map((m) => m.movieId));
      const r = await get(`/users/${u}/recommendations?n=${TOP_N}`);
      for (const it of r.body.items) {
        expect(it.title).toBe(catalogue.get(it.movieId));
        expect(Array.isArray(it.genres)).toBe(true);
        if (it.because === undefined) continue;
        named++;
        expect(mine.has(it.because)).toBe(true); // a movie the user watched…
        expect(mine.has(it.movieId)).toBe(false);
        expect(it.reason).toBe(`because you watched ${catalogue.get(it.because)}: ${it.reason.split(': ').slice(1).join(': ')}`);
        expect(it.reason).toMatch(/: popular with users like you \(clusters? [\d, ]+( and \d+ more)?\)$/);
      }
    }
    expect(named).toBeGreaterThan(30); // almost every item of these 5 users names one
    // users the model does not know have watched nothing: no such reason
    for (const it of (await get('/users/999999/recommendations')).body.items) expect(it.because).toBeUndefined();
  });
});

describe('similar movies', () => {
  test('GET /movies/{id}/similar equals `movierec similar` on the same model, with titles', async () => {
    for (const movie of [1, 2, 17, 150]) {
      const api = await get(`/movies/${movie}/similar?n=7`);
      expect(api.status).toBe(200);
      const { stdout } = await cli(['similar', '--model', cliModel, '--movie', String(movie), '--n', '7', '--movies', join(dir, 'movies.csv')]);
      const local = JSON.parse(stdout);
      expect(api.body).toEqual({ ...local, modelVersion: version });
      expect(api.body.items).toHaveLength(7);
      expect(api.body.title).toMatch(new RegExp(`^"?Movie ${movie}\\b`));
    }
    expect(ids((await get('/movies/1/similar')).body)).toHaveLength(10); // default n
  });

  test('an unknown movie is a 404 JSON; a bad id or n a 400', async () => {
    expect(await get('/movies/987654/similar')).toEqual({
      status: 404,
      body: { error: 'unknown_movie', message: expect.stringMatching(/^Movie 987654 is not among the movies the active model's clusters rank/) },
    });
    expect((await get('/movies/1/similar?n=51')).status).toBe(400);
    expect((await get('/movies/x/similar')).status).toBe(400);
  });

  test('a similar-movies request is one DynamoDB item: v#<version>#sim#<movie>', async () => {
    const doc = makeDocClient(makeDynamo());
    const item = (await doc.send(new GetCommand({ TableName: stack.tables.clusters, Key: keys.similar(version, 1) }))).Item!;
    const api = await get('/movies/1/similar?n=50');
    expect(item.m.split(',').map((x: string) => parseInt(x, 36))).toEqual(ids(api.body));
  });
});

describe('batch export', () => {
  test('GET /models/active names the export; its rows equal `movierec recommend --all` on the same model', async () => {
    const active = await get('/models/active');
    expect(active.body.version).toBe(version);
    expect(active.body.export).toEqual({
      state: 'written',
      bucket: stack.bucket,
      key: `exports/${version}/recommendations.csv.gz`,
      topN: TOP_N,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      users: GEN.users,
      rows: GEN.users * TOP_N,
      bytes: expect.any(Number),
    });
    const obj = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: active.body.export.key }));
    const gz = Buffer.from(await obj.Body!.transformToByteArray());
    expect(gz.length).toBe(active.body.export.bytes);
    const exported = gunzipSync(gz).toString('utf8');
    const out = join(dir, 'recs.csv');
    await cli(['recommend', '--model', cliModel, '--all', '--n', String(TOP_N), '--out', out]);
    expect(exported.split('\n')[0]).toBe('userId,rank,movieId,score');
    expect(exported.split('\n')).toHaveLength(GEN.users * TOP_N + 2); // header, rows, final newline
    expect(exported === readFileSync(out, 'utf8')).toBe(true);
    // and --out …gz writes the same bytes compressed
    await cli(['recommend', '--model', cliModel, '--all', '--n', String(TOP_N), '--out', `${out}.gz`]);
    expect(gunzipSync(readFileSync(`${out}.gz`)).toString('utf8') === exported).toBe(true);
  });

  test('deleting a version deletes its similar-movies items, their manifest and its export', async () => {
    const doc = makeDocClient(makeDynamo());
    const v1 = version;
    const simPartition = async (v: string, movie: number) =>
      (await doc.send(new GetCommand({ TableName: stack.tables.clusters, Key: keys.similar(v, movie) }))).Item;
    expect(await simPartition(v1, 1)).toBeDefined();
    // two more publishes: the third deletes v1 (neither active nor the rollback copy)
    for (const [seed, key] of [[4, 'uploads/ratings-2.csv'], [5, 'uploads/ratings-3.csv']] as const) {
      const f = join(dir, `ratings-${seed}.csv`);
      await writeRatings(f, seed);
      expect(await uploadAndWait(f, key)).not.toBe(v1);
    }
    const manifest = await doc.send(new QueryCommand({ TableName: stack.tables.clusters, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.manifestPk(v1) } }));
    expect(manifest.Items).toEqual([]);
    for (let m = 1; m <= GEN.movies; m += 37) expect(await simPartition(v1, m)).toBeUndefined();
    await expect(stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: `exports/${v1}/recommendations.csv.gz` }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    // the live version's export is there, and named
    const active = await get('/models/active');
    expect(active.body.export.state).toBe('written');
    await expect(stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: active.body.export.key }))).resolves.toBeDefined();
  }, 120_000);
});

/** A client of our own on the stack's dynalite (the stack's clients are internal). */
const makeDynamo = () => new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });

// (the genres the generated catalogue draws from include every genre the tests filter on)
test('the generated catalogue uses MovieLens genre names', () => {
  for (const g of ['Drama', 'Comedy', 'Action', 'Horror']) expect(MOVIELENS_GENRES).toContain(g);
});
