// batchGet: ≤ 100 keys per request, UnprocessedKeys re-sent until none are left, a clear error after the last
// attempt (the SDK is mocked: the emulators never return UnprocessedKeys).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { batchGet, BatchGetError } from '../../functions/adapters/dynamo/batch-reader';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
afterEach(() => ddb.reset());

const key = (i: number) => ({ pk: `p${i}`, sk: 's' });
const noSleep = async () => {};

test('unprocessed keys are re-sent until every item is read', async () => {
  ddb
    .on(BatchGetCommand)
    .resolvesOnce({ Responses: { t: [{ ...key(0), v: 0 }] }, UnprocessedKeys: { t: { Keys: [key(1), key(2)] } } })
    .resolvesOnce({ Responses: { t: [{ ...key(2), v: 2 }] }, UnprocessedKeys: { t: { Keys: [key(1)] } } })
    .resolvesOnce({ Responses: { t: [{ ...key(1), v: 1 }] } });
  let requests = 0;
  const items = await batchGet(doc, 't', [key(0), key(1), key(2)], { sleep: noSleep, onRequest: () => requests++ });
  expect(items.map((i) => i.v).sort()).toEqual([0, 1, 2]);
  expect(requests).toBe(3);
  const calls = ddb.commandCalls(BatchGetCommand);
  expect(calls[1].args[0].input.RequestItems!.t.Keys).toEqual([key(1), key(2)]);
  expect(calls[2].args[0].input.RequestItems!.t.Keys).toEqual([key(1)]);
});

test('more than 100 keys go out as several requests of at most 100', async () => {
  ddb.on(BatchGetCommand).callsFake((input) => ({ Responses: { t: input.RequestItems.t.Keys } }));
  const keys = Array.from({ length: 230 }, (_, i) => key(i));
  const items = await batchGet(doc, 't', keys, { sleep: noSleep });
  expect(items).toHaveLength(230);
  expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.t.Keys!.length)).toEqual([100, 100, 30]);
});

test('keys still unprocessed after the last attempt fail with a clear error', async () => {
  ddb.on(BatchGetCommand).resolves({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [key(0)] } } });
  await expect(batchGet(doc, 't', [key(0)], { sleep: noSleep, maxAttempts: 3 })).rejects.toThrow(BatchGetError);
  expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(3);
});
