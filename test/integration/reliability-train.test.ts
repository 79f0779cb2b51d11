// Reliability matrix (RELIABILITY.md), the training path end to end on dynalite + s3rver through the real SDK:
// concurrent redelivery (row 1), a stale event racing a newer one (row 2), a publish that dies mid-way and its
// orphan (rows 4, 6), throttled / unprocessed batch writes (row 5, faults injected with aws-sdk-client-mock), the
// engine failing out of memory (row 6), refused files (rows 7, 10) — each time the API keeps serving the old model.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context, S3Event } from 'aws-lambda';
import { trainModel } from '../../functions/core/train';
import { makeDocClient } from '../../functions/adapters/aws';
import { BatchWriteError } from '../../functions/adapters/dynamo/batch-writer';
import { DynamoModelStore, DynamoModelStoreConfig } from '../../functions/adapters/dynamo/store';
import { S3RatingsSource, S3ReportStore } from '../../functions/adapters/s3';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { versionIdOf } from '../../functions/app/upload';
import { makeHandler as makeTrain, TrainDeps } from '../../functions/handlers/train';
import { createTables, startStack } from '../support/emulators';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { idempotencyLayer } from '../support/idempotency';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let events: S3Event[] = [];
let stageNo = 0;

beforeAll(async () => {
  stack = await startStack('reltrain');
  stack.s3rver.on('event', (e) => events.push(e as unknown as S3Event));
});
afterAll(async () => {
  await stack?.stop();
});

const PARAMS = { k: 2, nInit: 2, maxIter: 50, minClusterSize: 2 };

/** Fresh tables per test; `train(doc?, extra?)` builds one training Lambda instance (a cold start) over them. */
async function world() {
  const tables = await createTables(stack.dynamo, `rt${++stageNo}`);
  const doc = makeDocClient(stack.dynamo);
  const storeOn = (d: DynamoDBDocumentClient, cfg: Partial<DynamoModelStoreConfig> = {}) =>
    new DynamoModelStore({ doc: d, usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0, ...cfg });
  const store = storeOn(doc);
  const train = (opts: { doc?: DynamoDBDocumentClient; store?: Partial<DynamoModelStoreConfig>; deps?: Partial<TrainDeps> } = {}) => {
    const h = makeTrain({
      source: new S3RatingsSource(stack.s3),
      reports: new S3ReportStore(stack.s3, stack.bucket),
      store: storeOn(opts.doc ?? doc, opts.store),
      params: PARAMS,
      logger: silentLogger(),
      metrics: quietMetrics(),
      ...opts.deps,
    });
    return (e: S3Event, context: Context = lambdaContext) => h(e, context);
  };
  const api = makeApi({
    store: storeOn(doc),
    idempotency: idempotencyLayer(tables.idempotency, stack.dynamo),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const get = async (path: string) => {
    const res = await api(apiEvent('GET', path), lambdaContext);
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  /** every version metadata item (pk model / sk v#…) */
  const versions = async () =>
    (
      await doc.send(
        new QueryCommand({
          TableName: tables.clusters,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': 'model', ':v': 'v#' },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  return { tables, doc, store, train, get, versions };
}

/** Two taste groups of g users: users 1..g watch movies 1..8, users 1001..1000+g watch movies 11..18. */
function ratingsCsv(shift = 0, g = 12): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= g; u++) for (let m = 1; m <= 8; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  for (let u = 1001; u <= 1000 + g; u++) for (let m = 11; m <= 18; m++) if ((u + m + shift) % 3 !== 0) lines.push(`${u},${m},4,1`);
  return lines.join('\n') + '\n';
}

let uploadNo = 0;
/** Upload to s3rver and return the S3 event it emits (a fresh key per call unless given). */
async function upload(body: string, key = `uploads/rel-${++uploadNo}.csv`): Promise<S3Event> {
  events = [];
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
  for (let i = 0; i < 200 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(events.length).toBe(1);
  return events[0];
}
const at = (e: S3Event, iso: string) => ((e.Records[0].eventTime = iso), e);

async function s3Json(key: string): Promise<Record<string, any> | null> {
  try {
    const obj = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return JSON.parse(await obj.Body!.transformToString());
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return null;
    throw e;
  }
}

/** A doc client whose BatchWriteItem is faulty (aws-sdk-client-mock on this one instance); every other
 * command goes to dynalite through a separate, unmocked client. */
function faultyBatches(fault: (input: { RequestItems: Record<string, unknown[]> }) => unknown) {
  const real = makeDocClient(stack.dynamo);
  const doc = makeDocClient(stack.dynamo);
  const mock = mockClient(doc);
  for (const C of [GetCommand, PutCommand, QueryCommand, UpdateCommand, DeleteCommand] as const) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    mock.on(C as any).callsFake((input: any) => real.send(new (C as any)(input)));
  }
  mock.on(BatchWriteCommand).callsFake(fault as never);
  return { doc, mock };
}

// ---------------------------------------------------------------------------------------------------------------

test('row 1: the same S3 event delivered concurrently to three Lambda instances → one model version', async () => {
  const w = await world();
  const ev = await upload(ratingsCsv());
  const outs = await Promise.all([w.train()(ev), w.train()(ev), w.train()(ev)]);
  const statuses = outs.map((o) => o.results[0].status).sort();
  expect(statuses.filter((s) => s === 'published')).toHaveLength(1);
  expect(statuses.every((s) => s === 'published' || s === 'already-published')).toBe(true);
  const version = outs[0].results[0].version!;
  expect(outs.every((o) => o.results[0].version === version)).toBe(true);
  expect((await w.store.activeVersion({ fresh: true }))?.version).toBe(version);
  expect((await w.versions()).map((m) => [m.version, m.state])).toEqual([[version, 'published']]);
  // and a later redelivery (S3 is at-least-once) is a no-op
  expect((await w.train()(ev)).results[0].status).toBe('already-published');
  expect(await w.versions()).toHaveLength(1);
});

test('row 2: an older upload still training when a newer one is published is refused before writing anything', async () => {
  const w = await world();
  const older = at(await upload(ratingsCsv(1)), '2030-01-01T00:00:00.000Z');
  const newer = at(await upload(ratingsCsv(2)), '2030-01-01T00:00:01.000Z');
  let newerResult: Awaited<ReturnType<ReturnType<typeof w.train>>> | undefined;
  // the older event passes the pre-check; while it trains, the newer event is fully processed
  const slow = w.train({
    deps: {
      train: async (s, p, o) => {
        newerResult = await w.train()(newer);
        return trainModel(s, p, o);
      },
    },
  });
  const out = await slow(older);
  expect(newerResult?.results[0].status).toBe('published');
  expect(out.results[0].status).toBe('stale');
  const newerVersion = newerResult!.results[0].version!;
  expect((await w.store.activeVersion({ fresh: true }))?.version).toBe(newerVersion);
  expect((await w.versions()).map((m) => m.version)).toEqual([newerVersion]); // the stale one wrote nothing
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(newerVersion);
  // the stale one redelivered later is refused before training
  expect((await w.train()(older)).results[0].status).toBe('stale');
});

test('row 2: a newer upload published while an older one is writing its items → the older flip is refused', async () => {
  const w = await world();
  const older = at(await upload(ratingsCsv(1)), '2030-01-01T00:00:00.000Z');
  const newer = at(await upload(ratingsCsv(2)), '2030-01-01T00:00:01.000Z');
  let newerResult: Awaited<ReturnType<ReturnType<typeof w.train>>> | undefined;
  // the older publish's first BatchWriteItem waits until the newer event has been fully processed
  const real = makeDocClient(stack.dynamo);
  let held = false;
  const racing = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: unknown) => {
        if (cmd instanceof BatchWriteCommand && !held) {
          held = true;
          newerResult = await w.train()(newer);
        }
        return target.send(cmd as BatchWriteCommand);
      };
    },
  }) as DynamoDBDocumentClient;
  const out = await w.train({ doc: racing })(older);
  expect(held).toBe(true);
  expect(newerResult?.results[0].status).toBe('published');
  expect(out.results[0].status).toBe('stale');
  const newerVersion = newerResult!.results[0].version!;
  expect((await w.store.activeVersion({ fresh: true }))?.version).toBe(newerVersion);
  expect((await w.store.versionMeta(out.results[0].version!, { fresh: true }))?.state).toBe('refused');
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(newerVersion);
});

test.each([
  ['ProvisionedThroughputExceededException on every BatchWriteItem', () => Promise.reject(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }))],
  ['UnprocessedItems forever', (input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: input.RequestItems })],
])('row 5: %s → retried with backoff, then the invocation fails loudly; the Lambda retry publishes once', async (_name, fault) => {
  const w = await world();
  const first = await w.train()(await upload(ratingsCsv(3)));
  expect(first.results[0].status).toBe('published');
  const v1 = first.results[0].version!;

  const ev = await upload(ratingsCsv(4));
  const { doc, mock } = faultyBatches(fault);
  const sleeps: number[] = [];
  const logger = silentLogger();
  const logged = jest.spyOn(logger, 'error');
  const failing = w.train({ doc, store: { batch: { maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms) } }, deps: { logger } });
  await expect(failing(ev)).rejects.toThrow(BatchWriteError);
  await expect(failing(ev)).rejects.toThrow(/unprocessed after 3 attempts; the publish is incomplete and the active model is unchanged/);
  // every chunk was tried 3 times with a backoff sleep between attempts
  const batchCalls = mock.commandCalls(BatchWriteCommand).length;
  expect(batchCalls).toBeGreaterThanOrEqual(6);
  expect(batchCalls % 3).toBe(0);
  expect(sleeps.length).toBe((batchCalls / 3) * 2);
  // reported: an error log naming the key (→ Lambda Errors metric, retries, then the DLQ — see RELIABILITY.md)
  expect(logged).toHaveBeenCalledWith(expect.stringMatching(/training failed/), expect.objectContaining({ key: ev.Records[0].s3.object.key }));
  // the old model still serves; the half-written version is not active
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(v1);
  const v2 = versionIdOf({ bucket: stack.bucket, key: ev.Records[0].s3.object.key, etag: ev.Records[0].s3.object.eTag.replace(/"/g, '') });
  expect((await w.store.versionMeta(v2, { fresh: true }))?.state).toBe('writing');
  mock.restore();

  // Lambda's retry (a healthy database now) publishes that same version, once
  const retry = await w.train()(ev);
  expect(retry.results[0]).toMatchObject({ status: 'published', version: v2 });
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(v2);
  expect((await w.versions()).map((m) => m.version).sort()).toEqual([v1, v2].sort());
});

test('row 6: the engine running out of memory → no publish, no rejection report, the error reaches Lambda', async () => {
  const w = await world();
  const v1 = (await w.train()(await upload(ratingsCsv(5)))).results[0].version!;
  const key = `uploads/oom-${uploadNo}.csv`;
  const ev = await upload(ratingsCsv(6), key);
  const logger = silentLogger();
  const logged = jest.spyOn(logger, 'error');
  const oom = w.train({
    deps: {
      logger,
      train: async (s) => {
        for await (const _ of s) break; // reads a little, then the engine dies
        throw new RangeError('Array buffer allocation failed');
      },
    },
  });
  await expect(oom(ev)).rejects.toThrow('Array buffer allocation failed');
  expect(logged).toHaveBeenCalledTimes(1);
  expect((await w.store.activeVersion({ fresh: true }))?.version).toBe(v1);
  expect((await w.versions()).map((m) => m.version)).toEqual([v1]); // not even a `writing` metadata item
  expect(await s3Json(`reports/${key}.json`)).toBeNull(); // not the file's fault: no rejection report, a retry
  expect((await w.get('/users/1001/recommendations')).json.modelVersion).toBe(v1);
});

test('rows 4 + 6: a Lambda timeout after 2 of 13 BatchWrites freezes the publish; nothing partial is served; the retry completes it; an orphan expires', async () => {
  const w = await world();
  const v1 = (await w.train()(await upload(ratingsCsv(7)))).results[0].version!;
  const before = (await w.get('/users/1/recommendations')).json;

  // the doc client of the dying invocation: after 2 BatchWriteItem calls every request hangs forever (the
  // sandbox is frozen at the timeout), like a Lambda killed mid-publish
  let batches = 0;
  const real = makeDocClient(stack.dynamo);
  const hanging = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (cmd: unknown) => {
        if (cmd instanceof BatchWriteCommand && ++batches > 2) return new Promise(() => undefined);
        if (batches > 2) return new Promise(() => undefined);
        return target.send(cmd as BatchWriteCommand);
      };
    },
  }) as DynamoDBDocumentClient;
  const ev = await upload(ratingsCsv(8, 150)); // 300 users: 12 user batches + 1 cluster batch
  // a Lambda with 1.5 s left: middy aborts the invocation just before the deadline (as Lambda would kill it)
  const deadline = { ...lambdaContext, getRemainingTimeInMillis: () => 1500 } as Context;
  await expect(w.train({ doc: hanging, store: { batch: { concurrency: 1 } } })(ev, deadline)).rejects.toThrow(/aborted/);
  expect(batches).toBeGreaterThan(2);
  const v2 = versionIdOf({ bucket: stack.bucket, key: ev.Records[0].s3.object.key, etag: ev.Records[0].s3.object.eTag.replace(/"/g, '') });
  expect((await w.store.versionMeta(v2, { fresh: true }))?.state).toBe('writing');
  // the API still answers exactly as before, from v1
  expect((await w.get('/users/1/recommendations')).json).toEqual(before);
  expect((await w.get('/models/active')).json.version).toBe(v1);

  // another upload crashes the same way and is never retried: an orphan
  batches = 0;
  const orphanEv = await upload(ratingsCsv(9, 150));
  await expect(w.train({ doc: hanging, store: { batch: { concurrency: 1 } } })(orphanEv, deadline)).rejects.toThrow(/aborted/);
  const orphan = versionIdOf({ bucket: stack.bucket, key: orphanEv.Records[0].s3.object.key, etag: orphanEv.Records[0].s3.object.eTag.replace(/"/g, '') });
  expect((await w.store.versionMeta(orphan, { fresh: true }))?.state).toBe('writing');

  // Lambda's retry of the first one completes it; with the orphan grace over, the orphan's items are deleted and
  // its metadata gets a TTL (expiresAt, epoch seconds) of 30 days
  const t = Date.now();
  const retry = await w.train({ store: { orphanGraceMs: 0 } })(ev);
  expect(retry.results[0]).toMatchObject({ status: 'published', version: v2 });
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(v2);
  const meta = (await w.versions()).find((m) => m.version === orphan)!;
  expect(meta.state).toBe('expired');
  expect(meta.expiresAt).toBeGreaterThanOrEqual(Math.floor(t / 1000) + 30 * 86400 - 5);
  expect(meta.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 30 * 86400 + 5);
  expect(await w.store.getUser(orphan, 1)).toBeNull();
  expect((await w.store.versionMeta(v1, { fresh: true }))?.state).toBe('published'); // the rollback version stays
});

test.each([
  ['an empty file', '', 'empty'],
  ['a header only', 'userId,movieId,rating,timestamp\n', 'empty'],
  ['no id columns', 'user,item,score\n1,2,3\n4,5,6\n', 'missing_columns'],
  ['no id columns, header-less junk', 'hello world\nthis is not a ratings file\n', 'missing_columns'],
])('row 7: %s → refused with the reason in reports/<key>.json; nothing published; the old model answers', async (_name, body, code) => {
  const w = await world();
  const v1 = (await w.train()(await upload(ratingsCsv(10)))).results[0].version!;
  const key = `uploads/bad-${++uploadNo}.csv`;
  const out = await w.train()(await upload(body, key));
  expect(out.results[0]).toMatchObject({ status: 'rejected', reportKey: `reports/${key}.json` });
  const report = await s3Json(`reports/${key}.json`);
  expect(report).toMatchObject({ status: 'rejected', reason: { code } });
  expect(report!.reason.message).toContain(key);
  expect((await w.versions()).map((m) => m.version)).toEqual([v1]);
  expect((await w.get('/users/1/recommendations')).json.modelVersion).toBe(v1);
});

describe('row 10: bad ids are rejected and counted; the file is refused over the threshold (1%)', () => {
  const BAD = ['abc,3,4,1', '-5,3,4,1', '2.5,3,4,1', '9007199254740993,3,4,1'];
  const withBad = (goodRows: number) => {
    const good = ratingsCsv().trimEnd().split('\n');
    const lines = good.slice(0, goodRows + 1); // header + goodRows
    lines.splice(10, 0, ...BAD);
    return lines.join('\n') + '\n';
  };

  test('4 bad of 104 rows (3.8%): refused, every bad row counted by reason', async () => {
    const w = await world();
    const key = `uploads/ids-${++uploadNo}.csv`;
    const out = await w.train()(await upload(withBad(100), key));
    expect(out.results[0].status).toBe('rejected');
    const report = await s3Json(`reports/${key}.json`);
    expect(report?.reason.code).toBe('too_many_rejected');
    expect(report?.report).toMatchObject({ rowsRead: 104, rowsAccepted: 100, rowsRejected: 4, rejectedByReason: { bad_user_id: 4 } });
    expect(await w.versions()).toEqual([]);
  });

  test('4 bad of 404+ rows (< 1%): published, the 4 rows dropped and counted in the model summary', async () => {
    const w = await world();
    const good = ratingsCsv().trimEnd().split('\n').slice(1);
    const shifted = (by: number) => good.map((l) => l.replace(/^(\d+),/, (_, u) => `${Number(u) + by},`));
    const many = ['userId,movieId,rating,timestamp', ...good, ...shifted(100), ...shifted(200), ...shifted(300)];
    many.splice(10, 0, ...BAD);
    expect(many.length - 1).toBeGreaterThanOrEqual(400);
    const out = await w.train()(await upload(many.join('\n') + '\n'));
    expect(out.results[0].status).toBe('published');
    const active = (await w.get('/models/active')).json;
    expect(active.summary.data).toMatchObject({ rowsRejected: 4, rowsAccepted: many.length - 1 - 4 });
  });
});
