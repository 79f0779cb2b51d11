// The local stack's adapters one by one: S3 event keys encoded as S3 encodes them, the notification filter,
// the API Gateway REST proxy event built from an HTTP request, and the serial, retrying training bridge — the
// last one also against a real s3rver, whose events carry raw keys.
import { EventEmitter } from 'node:events';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import fc from 'fast-check';
import { decodeS3Key } from '../../functions/handlers/train';
import { toApiGatewayEvent } from '../../local/http-adapter';
import { encodeS3EventKey, toLambdaS3Events } from '../../local/s3-events';
import { BridgeEvent, TrainingBridge } from '../../local/training-bridge';
import { startStack } from '../../local/emulators';

const record = (key: string, eventName = 'ObjectCreated:Put') => ({
  eventVersion: '2.0',
  eventSource: 'aws:s3',
  eventName,
  eventTime: '2026-01-01T00:00:00.000Z',
  s3: { bucket: { name: 'b' }, object: { key, eTag: 'abc', size: 1, sequencer: '1' } },
});

describe('S3 event keys', () => {
  it('are form-encoded as S3 does: space → +, reserved characters as %XX of their UTF-8 bytes, / kept', () => {
    expect(encodeS3EventKey('uploads/my file (1).csv')).toBe('uploads/my+file+%281%29.csv');
    expect(encodeS3EventKey('uploads/a+b=c&d.csv')).toBe('uploads/a%2Bb%3Dc%26d.csv');
    expect(encodeS3EventKey('uploads/é.csv')).toBe('uploads/%C3%A9.csv');
    expect(encodeS3EventKey('uploads/ratings_v1-final.*.csv')).toBe('uploads/ratings_v1-final.*.csv');
  });

  it('decode back to the original key with the training handler’s decoder, for any key', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (key) => decodeS3Key(encodeS3EventKey(key)) === key));
  });

  it('only ObjectCreated events under uploads/ reach training, one record per event', () => {
    const events = toLambdaS3Events({
      Records: [
        record('uploads/a b.csv'),
        record('uploads/gone.csv', 'ObjectRemoved:Delete'),
        record('reports/uploads/a b.csv.json'),
        record('uploads/c.csv', 'ObjectCreated:Copy'),
      ],
    });
    expect(events.map((e) => [e.Records.length, e.Records[0].eventName, e.Records[0].s3.object.key])).toEqual([
      [1, 'ObjectCreated:Put', 'uploads/a+b.csv'],
      [1, 'ObjectCreated:Copy', 'uploads/c.csv'],
    ]);
  });
});

describe('API Gateway REST proxy events', () => {
  const req = (method: string, url: string, rawHeaders: string[]) => ({ method, url, rawHeaders, socket: { remoteAddress: '127.0.0.1' } });

  it('carry the route template, decoded path parameters, single- and multi-value query and headers, and the body', () => {
    const e = toApiGatewayEvent(
      req('POST', '/users/7/movies?n=1&n=2&q=a%20b', ['Host', 'localhost', 'X-Api-Key', 'k1', 'Accept', 'a', 'Accept', 'b']),
      Buffer.from('{"movieId":5}'),
    );
    expect(e).toMatchObject({
      resource: '/users/{userId}/movies',
      path: '/users/7/movies',
      httpMethod: 'POST',
      pathParameters: { userId: '7' },
      queryStringParameters: { n: '2', q: 'a b' },
      multiValueQueryStringParameters: { n: ['1', '2'], q: ['a b'] },
      headers: { Host: 'localhost', 'X-Api-Key': 'k1', Accept: 'b' },
      multiValueHeaders: { Accept: ['a', 'b'] },
      body: '{"movieId":5}',
      isBase64Encoded: false,
      requestContext: { stage: 'local', httpMethod: 'POST', resourcePath: '/users/{userId}/movies', identity: { apiKey: 'k1', sourceIp: '127.0.0.1' } },
    });
  });

  it('have null query, path parameters and body when there are none, and a fresh requestId each time', () => {
    const a = toApiGatewayEvent(req('GET', '/health', []), Buffer.alloc(0));
    const b = toApiGatewayEvent(req('GET', '/health', []), Buffer.alloc(0));
    expect([a.queryStringParameters, a.pathParameters, a.body, a.resource]).toEqual([null, null, null, '/health']);
    expect(a.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.requestContext.requestId).not.toBe(b.requestContext.requestId);
  });
});

describe('training bridge', () => {
  const event = (key: string): S3Event => ({ Records: [record(key)] }) as unknown as S3Event;

  it('runs one invocation at a time, in upload order, retrying a throwing one like Lambda', async () => {
    let running = 0;
    let maxRunning = 0;
    const calls: string[] = [];
    const failures = new Map([['uploads/flaky.csv', 2]]);
    const seen: string[] = [];
    const bridge = new TrainingBridge({
      retryAttempts: 2,
      retryDelayMs: () => 1,
      onEvent: (e: BridgeEvent) => seen.push(`${e.type}:${'key' in e ? e.key : e.keys.join()}`),
      handler: async (ev) => {
        const key = decodeS3Key(ev.Records[0].s3.object.key);
        calls.push(key);
        maxRunning = Math.max(maxRunning, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        const left = failures.get(key) ?? 0;
        if (left > 0) {
          failures.set(key, left - 1);
          throw new Error('throttled');
        }
        return { results: [{ key, status: 'published' as const }] };
      },
    });
    bridge.enqueue(event('uploads/flaky.csv'));
    bridge.enqueue(event('uploads/second.csv'));
    await bridge.idle();
    expect(maxRunning).toBe(1);
    expect(calls).toEqual(['uploads/flaky.csv', 'uploads/flaky.csv', 'uploads/flaky.csv', 'uploads/second.csv']);
    expect(seen).toEqual([
      'start:uploads/flaky.csv',
      'retry:uploads/flaky.csv',
      'start:uploads/flaky.csv',
      'retry:uploads/flaky.csv',
      'start:uploads/flaky.csv',
      'done:uploads/flaky.csv',
      'start:uploads/second.csv',
      'done:uploads/second.csv',
    ]);
  });

  it('gives up after the retries and reports the failure; a stopped bridge accepts nothing', async () => {
    const seen: string[] = [];
    const bridge = new TrainingBridge({
      retryAttempts: 1,
      retryDelayMs: () => 1,
      onEvent: (e) => seen.push(e.type),
      handler: async () => {
        throw new Error('down');
      },
    });
    bridge.enqueue(event('uploads/x.csv'));
    await bridge.idle();
    expect(seen).toEqual(['start', 'retry', 'start', 'failed']);
    bridge.stop();
    bridge.enqueue(event('uploads/y.csv'));
    expect(bridge.pending).toBe(0);
  });

  it('attached to a real s3rver, receives S3-encoded keys that decode to the uploaded key', async () => {
    const stack = await startStack('bridge');
    try {
      const keys: string[] = [];
      const bridge = new TrainingBridge({
        handler: async (ev) => {
          keys.push(ev.Records[0].s3.object.key);
          return { results: [] };
        },
      });
      const detach = bridge.attach(stack.s3rver);
      const uploaded = 'uploads/ratings (copy) 2+1 é.csv';
      await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: uploaded, Body: 'userId,movieId\n1,2\n' }));
      await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: 'reports/not-me.json', Body: '{}' }));
      await bridge.idle();
      detach();
      expect(keys).toEqual(['uploads/ratings+%28copy%29+2%2B1+%C3%A9.csv']);
      expect(decodeS3Key(keys[0])).toBe(uploaded);
    } finally {
      await stack.stop();
    }
  });

  it('attach() returns an unsubscribe that really unsubscribes', () => {
    const source = new EventEmitter();
    const got: string[] = [];
    const bridge = new TrainingBridge({ handler: async (ev) => (got.push(ev.Records[0].s3.object.key), { results: [] }) });
    const detach = bridge.attach(source as never);
    detach();
    source.emit('event', { Records: [record('uploads/late.csv')] });
    expect(bridge.pending).toBe(0);
  });
});
