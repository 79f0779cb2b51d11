// The local API Gateway adapter (local/http-adapter.ts) attacked over real HTTP: raw bytes on a socket, with
// the real API handler behind it over dynalite and a published model. Whatever a client writes, the process
// stays up and every answer is JSON — {error, message} with a 4xx for a bad request, never a 5xx — and the
// stack still answers /health afterwards. bench/hostile.ts sends 10,000 of the same requests to `movierec local`.
import fc from 'fast-check';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { publishModel } from '../../functions/app/publish';
import { makeHandler as makeApi } from '../../functions/handlers/api';
import { createApiServer, MAX_BODY_BYTES, MAX_HEADER_BYTES, type ApiServer } from '../../local/http-adapter';
import { startStack } from '../support/emulators';
import { checkAnswer, encodeRequest, hostileRequest, sendRaw } from '../support/hostile-http';
import { idempotencyLayer } from '../support/idempotency';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';
import { quietMetrics, silentLogger } from '../unit/handlers-fakes';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const KEY = 'hostile-test-key';
let stack: Awaited<ReturnType<typeof startStack>>;
let api: ApiServer;
let port: number;
const handlerErrors: unknown[] = [];

beforeAll(async () => {
  stack = await startStack('hostile');
  const store = new DynamoModelStore({ doc: makeDocClient(stack.dynamo), usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 });
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  await publishModel(store, modelOf(snapshot), 'v1', { bucket: 'b', key: 'uploads/r.csv' }, { sourceOrder: '1' });
  api = createApiServer({
    handler: makeApi({ store, idempotency: idempotencyLayer(stack.tables.idempotency, stack.dynamo), apiKey: KEY, logger: silentLogger(), metrics: quietMetrics() }),
    onError: (e) => handlerErrors.push(e),
  });
  port = await api.listen(0);
});
afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

const raw = (text: string | Buffer) => sendRaw(port, Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'));
const get = (target: string, key: string | null = KEY) =>
  raw(`GET ${target} HTTP/1.1\r\nHost: x\r\n${key === null ? '' : `x-api-key: ${key}\r\n`}Connection: close\r\n\r\n`);

function expectJsonError(a: Awaited<ReturnType<typeof raw>>, status: number, error: string) {
  expect(a).not.toBeNull();
  expect(a!.status).toBe(status);
  expect(a!.headers['content-type']).toMatch(/^application\/json/);
  const json = JSON.parse(a!.body.toString('utf8'));
  expect(Object.keys(json).sort()).toEqual(['error', 'message']);
  expect(json.error).toBe(error);
}

async function healthy() {
  const a = await get('/health');
  expect(a?.status).toBe(200);
  expect(JSON.parse(a!.body.toString('utf8'))).toEqual({ status: 'ok' });
}

describe('the local API adapter over real HTTP', () => {
  test('a malformed %-escape in {userId}, with or without a key, is a 400 bad_path and the stack keeps answering', async () => {
    expectJsonError(await get('/users/%E0%A4%A/movies', null), 400, 'bad_path');
    expectJsonError(await get('/users/%E0%A4%A/recommendations'), 400, 'bad_path');
    expectJsonError(await get('/users/%/movies'), 400, 'bad_path');
    await healthy();
  });

  test('request targets the URL parser chokes on (//[, http://[/) are answered, not thrown', async () => {
    expectJsonError(await get('//['), 404, 'not_found');
    expectJsonError(await get('http://[/'), 400, 'bad_request');
    expectJsonError(await get('*'), 404, 'not_found');
    await healthy();
  });

  test('headers past the limit → 431 JSON; a body past the limit → 413 JSON, declared or streamed, without reading it all', async () => {
    expectJsonError(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES + 1)}\r\n\r\n`), 431, 'headers_too_large');
    expectJsonError(
      await raw(`POST /users/1/movies HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{`),
      413,
      'payload_too_large',
    );
    const chunk = Buffer.alloc(MAX_BODY_BYTES + 1024, 'a');
    const streamed = Buffer.concat([
      Buffer.from(`POST /users/1/movies HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    expectJsonError(await raw(streamed), 413, 'payload_too_large');
    await healthy();
  });

  test.each([
    ['garbage instead of a request line', 'HELLO\r\n\r\n'],
    ['a control byte in the target', 'GET /users/1\x01/movies HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown method', 'BREW /health HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['Content-Length and Transfer-Encoding both', 'POST /users/1/movies HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a bad chunk size', 'POST /users/1/movies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a header without a colon', 'GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
  ])('%s → 400 bad_request JSON', async (_name, text) => {
    expectJsonError(await raw(text), 400, 'bad_request');
    await healthy();
  });

  test('property: any raw request (bytes and %-escapes in the path, odd headers, any body) gets a JSON answer, never a 5xx; /health afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const broken = checkAnswer(r, await sendRaw(port, encodeRequest(r, KEY)));
        if (broken) throw new Error(`${broken}\nrequest: ${JSON.stringify(encodeRequest(r, KEY).toString('latin1').slice(0, 400))}`);
      }),
      { numRuns: 250 },
    );
    await healthy();
    expect(handlerErrors).toEqual([]);
  });
});
