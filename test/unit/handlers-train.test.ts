// Training handler with fake ports: key decoding, prefix filter, malformed → report and nothing published,
// transient failure → throws (Lambda retries), movies.csv → catalogue, version ids from object identity.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { S3Event } from 'aws-lambda';
import { InputError } from '../../functions/core/types';
import { versionIdOf } from '../../functions/app/upload';
import { decodeS3Key, exportTopNFromEnv, makeHandler, paramsFromEnv } from '../../functions/handlers/train';
import type { OpenedObject, RatingsSource, ReportStore, SourceRef } from '../../functions/ports';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot, trainedFrom } from '../support/model-fixtures';
import { FakeStore, lambdaContext, quietMetrics, silentLogger } from './handlers-fakes';

class FakeSource implements RatingsSource {
  opened: SourceRef[] = [];
  constructor(private readonly files: Record<string, string>) {}
  async open(ref: SourceRef): Promise<OpenedObject | null> {
    this.opened.push(ref);
    const text = this.files[ref.key];
    if (text === undefined) return null;
    return { stream: Readable.from([text]), metadata: {} };
  }
}

class FakeReports implements ReportStore {
  docs = new Map<string, unknown>();
  async putJson(key: string, doc: unknown) {
    this.docs.set(key, doc);
  }
}

const s3Event = (key: string, etag = 'e1'): S3Event =>
  ({
    Records: [
      {
        eventTime: '2026-01-01T00:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'bkt' }, object: { key, eTag: etag, sequencer: '0A', size: 1 } },
      },
    ],
  }) as unknown as S3Event;

function setup(files: Record<string, string>, train?: Parameters<typeof makeHandler>[0]['train']) {
  const store = new FakeStore();
  const source = new FakeSource(files);
  const reports = new FakeReports();
  const trained: string[] = [];
  const h = makeHandler({
    store,
    source,
    reports,
    logger: silentLogger(),
    metrics: quietMetrics(),
    train:
      train ??
      (async (s) => {
        let text = '';
        for await (const c of s as AsyncIterable<Buffer | string>) text += c.toString();
        trained.push(text);
        if (text.startsWith('junk')) {
          throw new InputError('no_rows', 'uploads/bad.csv line 1: not a ratings file; upload userId,movieId rows.', {
            report: { rowsRead: 1, rowsAccepted: 0 },
          });
        }
        return trainedFrom(makeSnapshot(EXAMPLE_USERS, exampleCluster).snapshot);
      }),
  });
  return { store, source, reports, trained, run: (e: S3Event) => h(e, lambdaContext) };
}

test('decodeS3Key: + is a space, %XX decoded; inverse of S3 encoding for any key (property)', () => {
  expect(decodeS3Key('uploads/my+ratings%2B2024.csv')).toBe('uploads/my ratings+2024.csv');
  expect(decodeS3Key('uploads/%C3%A9t%C3%A9.csv')).toBe('uploads/été.csv');
  // S3 encodes like encodeURIComponent but with spaces as '+' (and keeps '/')
  const s3Encode = (k: string) => k.split('/').map((p) => encodeURIComponent(p).replace(/%20/g, '+')).join('/');
  fc.assert(fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (k) => decodeS3Key(s3Encode(`uploads/${k}`)) === `uploads/${k}`));
});

test('the version id depends only on the object identity', () => {
  const a = { bucket: 'b', key: 'uploads/r.csv', etag: 'x' };
  expect(versionIdOf(a)).toBe(versionIdOf({ ...a }));
  expect(versionIdOf(a)).not.toBe(versionIdOf({ ...a, etag: 'y' }));
  expect(versionIdOf({ ...a, versionId: 'v1' })).not.toBe(versionIdOf({ ...a, versionId: 'v2' }));
  expect(versionIdOf(a)).toMatch(/^[0-9a-f]{16}$/);
});

test('an upload is trained and published under its version id', async () => {
  const { run, store } = setup({ 'uploads/my ratings.csv': '1,100\n' });
  const out = await run(s3Event('uploads/my+ratings.csv'));
  expect(out.results[0]).toMatchObject({ key: 'uploads/my ratings.csv', status: 'published' });
  expect(store.published).toEqual([versionIdOf({ bucket: 'bkt', key: 'uploads/my ratings.csv', etag: 'e1' })]);
});

test('keys outside uploads/ are ignored (reports/ and models/ never train)', async () => {
  const { run, store, source } = setup({});
  for (const key of ['reports/uploads/x.csv.json', 'models/abc/report.json', 'other.csv']) {
    const out = await run(s3Event(key));
    expect(out.results[0].status).toBe('ignored');
  }
  expect(source.opened).toEqual([]);
  expect(store.published).toEqual([]);
});

test('a malformed file publishes nothing and leaves reports/<key>.json with the reason and data report', async () => {
  const { run, store, reports } = setup({ 'uploads/bad.csv': 'junk\u0000\u0001' });
  const out = await run(s3Event('uploads/bad.csv'));
  expect(out.results[0]).toMatchObject({ status: 'rejected', reportKey: 'reports/uploads/bad.csv.json' });
  expect(store.published).toEqual([]);
  expect(reports.docs.get('reports/uploads/bad.csv.json')).toMatchObject({
    status: 'rejected',
    reason: { code: 'no_rows' },
    report: { rowsRead: 1, rowsAccepted: 0 },
  });
});

test('a transient failure throws so that Lambda retries', async () => {
  const { run, store } = setup({ 'uploads/r.csv': '1,100\n' }, async () => {
    throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
  });
  await expect(run(s3Event('uploads/r.csv'))).rejects.toThrow('socket hang up');
  expect(store.published).toEqual([]);
});

test('an object overwritten or deleted since the event is skipped', async () => {
  const { run, store } = setup({});
  const out = await run(s3Event('uploads/gone.csv'));
  expect(out.results[0].status).toBe('superseded');
  expect(store.published).toEqual([]);
});

test('movies.csv loads the catalogue instead of training', async () => {
  const { run, store, trained } = setup({
    'uploads/movies.csv': 'movieId,title,genres\n1,"Toy Story (1995)",Adventure|Animation\n2,"Heat, The (1995)",(no genres listed)\n',
  });
  const out = await run(s3Event('uploads/movies.csv'));
  expect(out.results[0].status).toBe('movies-loaded');
  expect(trained).toEqual([]);
  expect(store.movies.get(1)).toEqual({ movieId: 1, title: 'Toy Story (1995)', genres: ['Adventure', 'Animation'] });
  expect(store.movies.get(2)).toEqual({ movieId: 2, title: 'Heat, The (1995)', genres: [] });
});

test('TRAINING_PARAMS: overrides parsed, bad JSON or unknown names fail loudly', () => {
  expect(paramsFromEnv({ TRAINING_PARAMS: '{"k":3,"nInit":2}' })).toEqual({ k: 3, nInit: 2 });
  expect(paramsFromEnv({})).toEqual({});
  expect(() => paramsFromEnv({ TRAINING_PARAMS: '{k:3' })).toThrow(/not valid JSON/);
  expect(() => paramsFromEnv({ TRAINING_PARAMS: '{"kk":3}' })).toThrow(/unknown parameter/);
});

test('EXPORT_TOP_N: unset or 0 is no export, 1–1000 the top-N; anything else fails the cold start loudly', () => {
  expect(exportTopNFromEnv({})).toBe(0);
  expect(exportTopNFromEnv({ EXPORT_TOP_N: '0' })).toBe(0);
  expect(exportTopNFromEnv({ EXPORT_TOP_N: '25' })).toBe(25);
  expect(exportTopNFromEnv({ EXPORT_TOP_N: '1000' })).toBe(1000);
  for (const bad of ['-1', '1001', '10.5', 'ten', ' 5']) {
    expect(() => exportTopNFromEnv({ EXPORT_TOP_N: bad })).toThrow(`EXPORT_TOP_N must be an integer from 0 to 1000, got "${bad}".`);
  }
});
