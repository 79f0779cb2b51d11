// The batch export after a publish, when things go wrong (dynalite + s3rver through the real SDK, the training
// handler as Lambda runs it): the export starts only after the flip, a failed export leaves the published model
// live and says why (version metadata → GET /models/active, a metric for the alarm), and a stream that breaks
// half-way leaves no object behind.
import { PassThrough } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Event } from 'aws-lambda';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { S3ExportStore, S3RatingsSource, S3ReportStore } from '../../functions/adapters/s3';
import type { ExportStore } from '../../functions/ports';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { makeHandler as makeTrain } from '../../functions/handlers/train';
import { HANDLER_METRICS } from '../../functions/shared/resources';
import { generateRatings } from '../../offline/generate';
import { createTables, startStack } from '../support/emulators';
import { idempotencyLayer } from '../support/idempotency';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
const events: S3Event[] = [];
let csv: string;
let n = 0;

beforeAll(async () => {
  stack = await startStack('expfault');
  stack.s3rver.on('event', (e) => events.push(e as unknown as S3Event));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  await generateRatings({ users: 200, movies: 150, ratings: 6000, clusters: 3, seed: 2 }, out);
  out.end();
  csv = Buffer.concat(chunks).toString('utf8');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** Fresh tables, one uploaded ratings file and its event, the training handler with the given export store. */
async function publishWith(exportsFor: (store: DynamoModelStore) => ExportStore) {
  const tables = await createTables(stack.dynamo, `ef${++n}`);
  const store = new DynamoModelStore({ doc: makeDocClient(stack.dynamo), usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0 });
  const exports = exportsFor(store);
  const metrics = quietMetrics();
  const emitted: string[] = [];
  jest.spyOn(metrics, 'addMetric').mockImplementation(((name: string) => void emitted.push(name)) as unknown as Metrics['addMetric']);
  const train = makeTrain({
    source: new S3RatingsSource(stack.s3),
    reports: new S3ReportStore(stack.s3, stack.bucket),
    store,
    params: { algorithm: 'seed', k: 3, nInit: 1 },
    exports,
    exportTopN: 5,
    logger: silentLogger(),
    metrics,
  });
  const key = `uploads/ratings-${n}.csv`;
  events.length = 0;
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: csv }));
  await new Promise((r) => setTimeout(r, 50));
  const event = events.find((e) => e.Records.some((r) => decodeURIComponent(r.s3.object.key) === key))!;
  const { results } = await train(event, lambdaContext);
  const api = makeApi({ store, idempotency: idempotencyLayer(tables.idempotency, stack.dynamo), logger: silentLogger(), metrics: quietMetrics() });
  const get = async (path: string, query?: Record<string, string>) => {
    const res = await api(apiEvent('GET', path, { query }), lambdaContext);
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  return { result: results[0], store, emitted, get };
}

const exportsUnder = async (prefix: string) =>
  ((await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);

test('the export starts after the flip: the version is already live when the first byte is produced', async () => {
  const real = new S3ExportStore(stack.s3, stack.bucket);
  let liveAtStart: string | null | undefined;
  const { result } = await publishWith((store) => ({
    bucket: real.bucket,
    putGzipText: async (key, chunks, type) => {
      liveAtStart = (await store.activeVersion({ fresh: true }))?.version ?? null;
      return real.putGzipText(key, chunks, type);
    },
    deleteObjects: (k) => real.deleteObjects(k),
  }));
  expect(result.status).toBe('published');
  expect(liveAtStart).toBe(result.version);
  expect(result.export).toMatchObject({ state: 'written', key: `exports/${result.version}/recommendations.csv.gz`, users: 200 });
  // top 5 of each user, fewer for the few whose cluster list holds fewer unseen movies
  expect(result.export!.rows).toBeGreaterThan(900);
  expect(result.export!.rows).toBeLessThanOrEqual(1000);
  expect(await exportsUnder(`exports/${result.version}/`)).toEqual([`exports/${result.version}/recommendations.csv.gz`]);
});

test('S3 refusing the export (no such bucket): the model stays live, the metadata and /models/active say why, the metric is emitted', async () => {
  const { result, emitted, get } = await publishWith(() => new S3ExportStore(stack.s3, 'movierec-no-such-bucket'));
  expect(result.status).toBe('published');
  expect(result.export).toMatchObject({ state: 'failed', bucket: 'movierec-no-such-bucket', message: expect.stringMatching(/^The export stopped after \d+ users: .*bucket/i) });
  expect(emitted).toContain(HANDLER_METRICS.exportsFailed);
  const active = await get('/models/active');
  expect(active.json.version).toBe(result.version);
  expect(active.json.export).toMatchObject({ state: 'failed', message: result.export!.message });
  const recs = await get('/users/1/recommendations', { n: '3' });
  expect(recs.status).toBe(200);
  expect(recs.json.modelVersion).toBe(result.version);
  expect(recs.json.items).toHaveLength(3);
});

test('a stream that breaks half-way leaves no object and a failed export; the model stays live', async () => {
  const real = new S3ExportStore(stack.s3, stack.bucket);
  const breaking: ExportStore = {
    bucket: real.bucket,
    putGzipText: (key, chunks, type) => {
      let produced = 0;
      const broken = (function* () {
        for (const c of chunks as Iterable<string>) {
          // the header went out; the first chunk of users does not
          if (++produced === 2) throw new Error('the disk under the generator caught fire');
          yield c;
        }
      })();
      return real.putGzipText(key, broken, type);
    },
    deleteObjects: (k) => real.deleteObjects(k),
  };
  const { result, emitted, get } = await publishWith(() => breaking);
  expect(result.status).toBe('published');
  expect(result.export).toMatchObject({ state: 'failed', message: expect.stringContaining('caught fire') });
  expect(emitted).toContain(HANDLER_METRICS.exportsFailed);
  await expect(stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: result.export!.key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect((await get('/users/2/recommendations')).json.modelVersion).toBe(result.version);
});
