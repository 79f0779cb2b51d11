// The API's cached favourite counters (countersMaxAgeMs) against dynalite: another instance's favourite shows
// up once the cache is older than the max age (served stale once while one background read refreshes it),
// waited for past the hard age, at once for this instance's own favourites; a failed refresh keeps the
// stale counts; with the cache off every read sees every write.
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { publishModel } from '../../functions/app/publish';
import { startStack, createTables } from '../support/emulators';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, modelOf } from '../support/model-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let stack: Awaited<ReturnType<typeof startStack>>;
let n = 0;
/** BatchGetItem requests sent, and whether the next ones fail */
const batchGets = { sent: 0, failNext: 0 };

beforeAll(async () => {
  stack = await startStack('counters');
  stack.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'BatchGetItemCommand') {
        batchGets.sent++;
        if (batchGets.failNext > 0) {
          batchGets.failNext--;
          throw Object.assign(new Error('injected BatchGetItem failure'), { name: 'InternalServerError' });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'countBatchGets' },
  );
});
afterAll(async () => {
  await stack?.stop();
});

const MAX_AGE = 1_000;
const HARD = 10_000;

/** A published example model, an API-like reader with the counter cache on a hand-driven clock, and a writer
 * standing for another Lambda instance. */
async function setup() {
  const tables = await createTables(stack.dynamo, `c${++n}`);
  const clock = { t: 1_000_000 };
  const base = { doc: makeDocClient(stack.dynamo), usersTable: tables.users, clustersTable: tables.clusters, pointerTtlMs: 0 };
  const reader = new DynamoModelStore({ ...base, now: () => clock.t, countersMaxAgeMs: MAX_AGE, countersHardMaxAgeMs: HARD });
  const writer = new DynamoModelStore(base);
  const { snapshot } = makeSnapshot(EXAMPLE_USERS, exampleCluster);
  const r = await publishModel(writer, modelOf(snapshot), 'v1', { bucket: 'b', key: 'k', etag: 'e', eventTime: '2026-01-01T00:00:00Z' }, { sourceOrder: '1' });
  expect(r.status).toBe('published');
  const countOf = async (store: DynamoModelStore, movieId: number) => {
    const [list] = await store.getClusterLists('v1', [0]);
    const i = list.movieIds.indexOf(movieId);
    return i < 0 ? 0 : list.counts[i];
  };
  const popularCount = async (store: DynamoModelStore, movieId: number) => {
    const list = await store.getPopularList('v1');
    const i = list.movieIds.indexOf(movieId);
    return i < 0 ? 0 : list.counts[i];
  };
  return { reader, writer, clock, countOf, popularCount, base };
}

test('another instance\'s favourite is seen after the max age: served stale once, refreshed in the background', async () => {
  const { reader, writer, clock, countOf, popularCount } = await setup();
  // cluster 0 ranks 100:3 (model-fixtures)
  expect(await countOf(reader, 100)).toBe(3);
  expect(await popularCount(reader, 100)).toBeGreaterThan(0);
  const popularBefore = await popularCount(reader, 100);
  await writer.countFavourite('v1', 0, 100, { newUser: false });
  expect(await countOf(writer, 100)).toBe(4);

  // younger than the max age: the cached counters, no request
  clock.t += MAX_AGE;
  const sent = batchGets.sent;
  expect(await countOf(reader, 100)).toBe(3);
  expect(batchGets.sent).toBe(sent);

  // older: this read is answered from the cache and starts one background read …
  clock.t += 1;
  expect(await countOf(reader, 100)).toBe(3);
  expect(await countOf(reader, 100)).toBe(3); // … not two
  await reader.lists.whenRefreshed();
  expect(batchGets.sent).toBe(sent + 1);
  // … whose counts the next read serves
  expect(await countOf(reader, 100)).toBe(4);
  clock.t += MAX_AGE + 1;
  expect(await popularCount(reader, 100)).toBe(popularBefore);
  await reader.lists.whenRefreshed();
  expect(await popularCount(reader, 100)).toBe(popularBefore + 1);
});

test('past the hard age a read waits for fresh counters (a thawed instance never serves old counts)', async () => {
  const { reader, writer, clock, countOf } = await setup();
  expect(await countOf(reader, 101)).toBe(2);
  await writer.countFavourite('v1', 0, 101, { newUser: false });
  clock.t += HARD + 1;
  expect(await countOf(reader, 101)).toBe(3);
});

test('this instance\'s own favourite is visible on its next read', async () => {
  const { reader, countOf, popularCount } = await setup();
  expect(await countOf(reader, 102)).toBe(1);
  const popularBefore = await popularCount(reader, 102);
  await reader.countFavourite('v1', 0, 102, { newUser: false });
  expect(await countOf(reader, 102)).toBe(2);
  expect(await popularCount(reader, 102)).toBe(popularBefore + 1);
});

test('a failed background refresh keeps the stale counts and a later read retries', async () => {
  const { reader, writer, clock, countOf } = await setup();
  expect(await countOf(reader, 100)).toBe(3);
  await writer.countFavourite('v1', 0, 100, { newUser: false });
  clock.t += MAX_AGE + 1;
  batchGets.failNext = 1;
  expect(await countOf(reader, 100)).toBe(3);
  await reader.lists.whenRefreshed();
  expect(batchGets.failNext).toBe(0); // the failure was used by the refresh
  expect(await countOf(reader, 100)).toBe(3); // stale, and a new refresh starts
  await reader.lists.whenRefreshed();
  expect(await countOf(reader, 100)).toBe(4);
});

test('with the cache off (the default) every read sees every write', async () => {
  const { writer, countOf, base } = await setup();
  const other = new DynamoModelStore(base);
  expect(await countOf(other, 103)).toBe(1);
  await writer.countFavourite('v1', 0, 103, { newUser: false });
  expect(await countOf(other, 103)).toBe(2);
});
