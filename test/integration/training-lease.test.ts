// Single-flight training without reserved concurrency: the lease item on dynalite (take, refuse, expire,
// release only by its holder), and two training Lambda instances given two uploads at once — the second waits
// for the first, the trainings never overlap, both versions publish in order.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { S3RatingsSource, S3ReportStore } from '../../functions/adapters/s3';
import { TrainingBusyError } from '../../functions/app/upload';
import { trainModel } from '../../functions/core/train';
import { makeHandler as makeTrain } from '../../functions/handlers/train';
import { lambdaContext as localContext } from '../../local/lambda-context';
import { createTables, startStack } from '../support/emulators';
import { quietMetrics, silentLogger } from '../unit/handlers-fakes';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let events: S3Event[] = [];
let stageNo = 0;

beforeAll(async () => {
  stack = await startStack('lease');
  stack.s3rver.on('event', (e) => events.push(e as unknown as S3Event));
});
afterAll(async () => {
  await stack?.stop();
});

let tables: Awaited<ReturnType<typeof createTables>>;
async function freshStore(now?: () => number) {
  tables = await createTables(stack.dynamo, `ls${++stageNo}`);
  return storeOn(now);
}
const storeOn = (now?: () => number) =>
  new DynamoModelStore({ doc: makeDocClient(stack.dynamo), usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, now });

test('the lease: one holder at a time, re-entrant for its holder, free again when released or expired', async () => {
  let clock = 1_000_000;
  const { lease } = await freshStore(() => clock);
  expect(await lease.acquire('a', clock + 60_000)).toBe(true);
  expect(await lease.acquire('b', clock + 60_000)).toBe(false);
  expect(await lease.acquire('a', clock + 90_000)).toBe(true); // a redelivered invocation of the holder itself
  await lease.release('b'); // not b's: nothing happens
  expect(await lease.acquire('b', clock + 60_000)).toBe(false);
  await lease.release('a');
  expect(await lease.acquire('b', clock + 60_000)).toBe(true);
  clock += 60_001; // b died without releasing: its lease ran out with its invocation
  expect(await lease.acquire('c', clock + 60_000)).toBe(true);
});

function ratingsCsv(shift: number): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 12; u++) for (let m = 1; m <= 8; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  for (let u = 1001; u <= 1012; u++) for (let m = 11; m <= 18; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  return lines.join('\n') + '\n';
}

async function upload(body: string, key: string, eventTime: string): Promise<S3Event> {
  events = [];
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
  for (let i = 0; i < 200 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(events.length).toBe(1);
  events[0].Records[0].eventTime = eventTime;
  return events[0];
}

test('two uploads at once on two Lambda instances: the second waits for the lease; trainings never overlap', async () => {
  const store = await freshStore();
  const spans: Array<{ key: string; start: number; end: number }> = [];
  const instance = () =>
    makeTrain({
      source: new S3RatingsSource(stack.s3),
      reports: new S3ReportStore(stack.s3, stack.bucket),
      store: storeOn(), // each instance its own client and caches, as two Lambda instances
      lease: store.lease,
      leasePollMs: 20,
      params: { algorithm: 'seed', k: 2, nInit: 2, maxIter: 50, minClusterSize: 2 },
      train: async (s, p, o) => {
        const span = { key: o!.sourceName!, start: Date.now(), end: 0 };
        spans.push(span);
        await new Promise((r) => setTimeout(r, 150)); // long enough for the other instance to try the lease
        const r = await trainModel(s, p, o);
        span.end = Date.now();
        return r;
      },
      logger: silentLogger(),
      metrics: quietMetrics(),
    });
  const older = await upload(ratingsCsv(1), 'uploads/lease-a.csv', '2030-01-01T00:00:00.000Z');
  const newer = await upload(ratingsCsv(2), 'uploads/lease-b.csv', '2030-01-01T00:00:01.000Z');
  const [a, b] = await Promise.all([instance()(older, localContext('train', 60_000)), instance()(newer, localContext('train', 60_000))]);
  expect([a.results[0].status, b.results[0].status].sort()).toEqual(['published', 'published']);
  expect(spans).toHaveLength(2);
  const [first, second] = [...spans].sort((x, y) => x.start - y.start);
  expect(second.start).toBeGreaterThanOrEqual(first.end); // never two trainings at once
  expect((await store.activeVersion({ fresh: true }))?.version).toBe(b.results[0].version); // the newer upload is live
});

test('a lease held longer than the invocation can wait gives the event back to Lambda (thrown, retried later)', async () => {
  const store = await freshStore();
  expect(await store.lease.acquire('someone-else', Date.now() + 600_000)).toBe(true);
  const h = makeTrain({
    source: new S3RatingsSource(stack.s3),
    reports: new S3ReportStore(stack.s3, stack.bucket),
    store,
    lease: store.lease,
    leasePollMs: 20,
    params: { algorithm: 'seed', k: 2 },
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const ev = await upload(ratingsCsv(3), 'uploads/lease-c.csv', '2030-01-02T00:00:00.000Z');
  await expect(h(ev, localContext('train', 400))).rejects.toBeInstanceOf(TrainingBusyError);
  expect(await store.activeVersion({ fresh: true })).toBeNull();
});
