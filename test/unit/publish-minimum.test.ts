// A tiny file must not replace a good model: through the training handler, a file with too few users for two
// clusters of six is refused whatever is forced (the taste model used to pick k=1 for it and publish), and a file
// with under half the users of the active model is refused unless the upload carries the force metadata, which is
// how an operator forces through S3.
import { PassThrough, Readable } from 'node:stream';
import type { S3Event } from 'aws-lambda';
import { assertPublishable, type HoldoutReport } from '../../functions/core/recommender';
import { MIN_USER_SHARE, minimumUsers } from '../../functions/core/train';
import { resolveParams } from '../../functions/core/recommender';
import { makeHandler } from '../../functions/handlers/train';
import type { ActivePointer, OpenedObject, RatingsSource, ReportStore, VersionMeta } from '../../functions/ports';
import { FORCE_HINT, FORCE_METADATA } from '../../functions/shared/resources';
import { generateRatings } from '../../offline/generate';
import { FakeStore, lambdaContext, quietMetrics, silentLogger } from './handlers-fakes';

const SEED_K2 = { algorithm: 'seed' as const, k: 2, nInit: 1, maxIter: 50, minClusterSize: 2 };

async function ratingsCsv(users: number): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await generateRatings({ users, movies: 60, ratings: users * 12, clusters: 3, seed: 3 }, out);
  out.end();
  return Buffer.concat(chunks);
}

/** A store whose active model has `activeUsers` users (none: no model yet). */
function storeWith(activeUsers: number | null) {
  const store = new FakeStore();
  const pointer: ActivePointer = { version: 'v0', sourceOrder: '0', source: { bucket: 'b', key: 'uploads/big.csv' }, previous: null, activatedAt: '2026-01-01T00:00:00.000Z' };
  store.activeVersion = async () => (activeUsers === null ? null : pointer);
  store.versionMeta = async () =>
    activeUsers === null ? null : ({ version: 'v0', state: 'published', users: activeUsers, clusters: [], summary: {} } as unknown as VersionMeta);
  return store;
}

async function upload(csv: Buffer, activeUsers: number | null, opts: { force?: boolean; params?: object } = {}) {
  const store = storeWith(activeUsers);
  const docs = new Map<string, Record<string, any>>();
  const reports: ReportStore = { putJson: async (k, d) => void docs.set(k, d as Record<string, any>) };
  const source: RatingsSource = {
    open: async (): Promise<OpenedObject> => ({ stream: Readable.from([csv]), contentLength: csv.length, metadata: opts.force ? { [FORCE_METADATA]: 'true' } : {} }),
  };
  const h = makeHandler({ store, source, reports, params: opts.params ?? SEED_K2, logger: silentLogger(), metrics: quietMetrics() });
  const event = {
    Records: [{ eventTime: '2026-01-02T00:00:00.000Z', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'uploads/small.csv', eTag: 'e', sequencer: '1' } } }],
  } as unknown as S3Event;
  const { results } = await h(event, { ...lambdaContext, getRemainingTimeInMillis: () => 60_000 });
  const r = results[0];
  return { r, store, refusal: r.reportKey ? docs.get(r.reportKey) : undefined, docs };
}

describe('the fewest users a model may have', () => {
  test('two clusters of six: 12 users for the taste model (k chosen), k and at least 12 for a fixed k', () => {
    expect(minimumUsers(resolveParams({}))).toBe(12);
    expect(minimumUsers(resolveParams({ algorithm: 'seed' }))).toBe(15);
    expect(minimumUsers(resolveParams({ algorithm: 'seed', k: 2 }))).toBe(12);
    expect(minimumUsers(resolveParams({ k: 40 }))).toBe(40);
  });

  test.each([
    ['the default taste model', {}],
    ['the seed algorithm at k=2', SEED_K2],
  ])('%s: a 5-user file is refused (too_few_users) against a 481-user model, even forced; nothing published', async (_name, params) => {
    const csv = await ratingsCsv(5);
    for (const force of [false, true]) {
      const { r, store, refusal } = await upload(csv, 481, { force, params });
      expect(r.status).toBe('rejected');
      expect(r.code).toBe('too_few_users');
      expect(refusal!.reason.message).toMatch(/has 5 users, a model needs at least 12 \(2 clusters of 6 users\)/);
      expect(store.published).toEqual([]);
    }
  });

  test('11 users and no model yet: refused; 12 users: trained', async () => {
    expect((await upload(await ratingsCsv(11), null)).r.code).toBe('too_few_users');
    const ok = await upload(await ratingsCsv(12), null);
    expect(ok.r.status).toBe('published');
    expect(ok.store.published).toHaveLength(1);
  });
});

describe('a file with far fewer users than the active model', () => {
  test(`under ${MIN_USER_SHARE * 100}% of its users: refused (users_dropped), the message says how to force it`, async () => {
    const { r, store, refusal } = await upload(await ratingsCsv(100), 481);
    expect(r.status).toBe('rejected');
    expect(r.code).toBe('users_dropped');
    expect(refusal!.reason.message).toContain('has 100 users, fewer than 50% of the 481 users of the active model');
    expect(refusal!.reason.message).toContain(`${FORCE_HINT} to replace it anyway`);
    expect(refusal!.reason.message).toContain(`${FORCE_METADATA}=true`);
    expect(store.published).toEqual([]);
  });

  test('the same file uploaded with the force metadata: published, and its training report says it was forced', async () => {
    const { r, store, docs } = await upload(await ratingsCsv(100), 481, { force: true });
    expect(r.status).toBe('published');
    expect(store.published).toHaveLength(1);
    expect(docs.get(r.reportKey!)!.forced).toBe(true);
  });

  test('half of its users or more: published without force', async () => {
    const { r } = await upload(await ratingsCsv(241), 481);
    expect(r.status).toBe('published');
  });
});

test('a model below most-popular on its hold-out: the refusal names how this caller forces', () => {
  const failed = { passed: false, reason: 'held-out NDCG@10 0.1 is below 1 × most-popular 0.2' } as HoldoutReport;
  expect(() => assertPublishable(failed)).toThrow(/pass --allow-below-popular to publish anyway/);
  expect(() => assertPublishable(failed, { forceHint: FORCE_HINT })).toThrow(`(${FORCE_HINT} to publish anyway)`);
  expect(() => assertPublishable(failed, { allowBelowPopular: true })).not.toThrow();
});
