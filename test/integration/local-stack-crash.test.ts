// `movierec local` (npm start) crashed and hammered as a user would: a real process, killed with -9 while it
// trains and while it publishes, then started again without --fresh — the interrupted upload is trained and live
// with no manual step (the event queue is journalled under the data folder and replayed on start). While it
// trains, the API keeps answering: training runs in its own process. A gzip row bomb uploaded to the local S3 is
// held as its distinct pairs by that process and refused with a report; the process ends with it.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { versionIdOf } from '../../functions/app/upload';
import { tableNames } from '../../functions/shared/resources';
import { generateRatings } from '../../offline/generate';
import { activeModel, kill9, putObject, ready, type Running, startLocal, trainingPids, waitFor } from '../support/local-process';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let dir: string;
let dataDir: string;
const running: Running[] = [];
const start = (args: string[]) => {
  const s = startLocal(['--port', '0', '--s3-port', '0', '--data-dir', dataDir, ...args]);
  running.push(s);
  return s;
};

async function csv(users: number, seed: number): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await generateRatings({ users, movies: 1500, ratings: users * 60, seed }, out);
  out.end();
  return Buffer.concat(chunks);
}

/** The stack's "model V is live: …" lines for version V (one per publish of it). */
const liveLines = (s: Running, version: string) => s.out().split('\n').filter((l) => l.startsWith(`model ${version} is live: `));
const queued = () => readdirSync(join(dataDir, 'queue')).filter((f) => f.endsWith('.json'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'movierec-crash-'));
  dataDir = join(dir, 'data');
});
afterAll(async () => {
  for (const s of running) await kill9(s);
  rmSync(dir, { recursive: true, force: true });
});

describe('movierec local, killed with -9 and started again', () => {
  let info: Awaited<ReturnType<typeof ready>>;

  test('killed while training: the API answered during the training (its own process), and after a restart the upload is trained and live with no manual step', async () => {
    const first = start(['--fresh', '--sample-users', '200']);
    info = await ready(first, dataDir);
    const big = await csv(4000, 1);
    writeFileSync(join(dir, 'big-1.csv'), big);
    const etag = await putObject(info.s3Endpoint, info.bucket, 'uploads/big-1.csv', big);
    const version = versionIdOf({ bucket: info.bucket, key: 'uploads/big-1.csv', etag });

    // training runs in another process, and the API answers while it runs
    const pid = await waitFor('the training process', () => trainingPids(dataDir)[0], 60_000, 20);
    expect(pid).not.toBe(info.pid);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${info.apiUrl}/users/${1 + i}/recommendations?n=5`, { headers: { 'x-api-key': info.key } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual(Array(30).fill(200));
    expect(trainingPids(dataDir)).toContain(pid); // all 30 answered before the training ended

    await kill9(first);
    expect(queued()).toHaveLength(1);
    // the training process does not outlive the stack
    await waitFor('the training process to end', () => (trainingPids(dataDir).length === 0 ? true : undefined), 15_000);
    expect((await activeModel(info.apiUrl, info.key))?.version).toBeUndefined(); // nothing answers: it is down

    const again = start([]);
    info = await ready(again, dataDir);
    expect(again.out()).toMatch(/^an upload interrupted by the last stop, trained again now: uploads\/big-1\.csv$/m);
    await waitFor('the interrupted upload to be live', async () => ((await activeModel(info.apiUrl, info.key))?.version === version ? true : undefined), 240_000, 250);
    await waitFor('its live line', () => (liveLines(again, version).length ? true : undefined), 30_000);
    expect(queued()).toEqual([]);
    // trained and published exactly once: never by the killed run, once by the restarted one, as a new version
    expect(liveLines(first, version)).toEqual([]);
    expect(liveLines(again, version)).toHaveLength(1);
    expect(liveLines(again, version)[0]).toMatch(/ is live: 4,000 users in \d+ clusters, from uploads\/big-1\.csv in [^(]+$/);
    expect(again.out().match(/^training uploads\/big-1\.csv …$/gm)).toHaveLength(1);
  });

  test('killed while publishing (the version half written): after a restart it is published, complete and live', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: info.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }));
    const clusters = tableNames('dev').clusters;
    const big = await csv(6000, 2);
    const etag = await putObject(info.s3Endpoint, info.bucket, 'uploads/big-2.csv', big);
    const version = versionIdOf({ bucket: info.bucket, key: 'uploads/big-2.csv', etag });
    const state = async () => ((await doc.send(new GetCommand({ TableName: clusters, Key: { pk: 'model', sk: `v#${version}` } }))).Item?.state as string | undefined) ?? undefined;
    // the version's metadata goes to 'writing' before its items are written and the pointer flips
    await waitFor('the publish to start writing', async () => ((await state()) === 'writing' ? true : undefined), 300_000, 20);
    const killed = running[running.length - 1];
    await kill9(killed);
    doc.destroy();
    expect(liveLines(killed, version)).toEqual([]);
    expect(queued()).toHaveLength(1);

    const again = start([]);
    info = await ready(again, dataDir);
    expect(again.out()).toMatch(/trained again now: uploads\/big-2\.csv/);
    await waitFor('the interrupted publish to be live', async () => ((await activeModel(info.apiUrl, info.key))?.version === version ? true : undefined), 240_000, 250);
    const doc2 = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: info.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }));
    const meta = (await doc2.send(new GetCommand({ TableName: clusters, Key: { pk: 'model', sk: `v#${version}` } }))).Item!;
    doc2.destroy();
    expect(meta.state).toBe('published');
    expect(meta.users).toBe(6000);
    // every user of the file is served from the new version
    const res = await fetch(`${info.apiUrl}/users/5999/recommendations?n=3`, { headers: { 'x-api-key': info.key } });
    expect(((await res.json()) as { modelVersion: string; source: string }).source).toBe('cluster');
    await waitFor('its live line', () => (liveLines(again, version).length ? true : undefined), 30_000);
    expect(queued()).toEqual([]);
    expect(liveLines(again, version)).toHaveLength(1);
    expect(liveLines(again, version)[0]).toMatch(/ is live: 6,000 users in \d+ clusters, from uploads\/big-2\.csv in [^(]+$/);
    expect(again.out().match(/^training uploads\/big-2\.csv …$/gm)).toHaveLength(1);
  });

  test('a gzip row bomb (256 MiB of valid rows in 256 KB) through the local S3: refused with a report while the training process holds only its distinct pairs; that process ends, the stack and the active model are unchanged', async () => {
    // its peak RSS (and that of a 1 GiB bomb) is measured by bench/hostile.ts, not asserted here
    const stack = running[running.length - 1];
    const member = gzipSync(Buffer.from('1,2\n'.repeat(2 ** 18)), { level: 9 });
    const bomb = Buffer.concat([gzipSync('userId,movieId\n'), ...Array.from({ length: 256 }, () => member)]);
    expect(bomb.length).toBeLessThan(2 ** 20);
    const activeBefore = (await activeModel(info.apiUrl, info.key))!.version;
    await putObject(info.s3Endpoint, info.bucket, 'uploads/bomb.csv.gz', bomb);
    await waitFor('the refusal', () => (/uploads\/bomb\.csv\.gz was refused/.test(stack.out()) ? true : undefined), 120_000);
    expect(stack.out()).toMatch(/uploads\/bomb\.csv\.gz was refused, the active model is unchanged: .*has 1 user, a model needs at least 12/);
    await waitFor('the training process to end', () => (trainingPids(dataDir).length === 0 ? true : undefined), 30_000);
    const report = (await (await fetch(`${info.s3Endpoint}/${info.bucket}/reports/uploads/bomb.csv.gz.json`)).json()) as { reason: { code: string }; report: { rowsAccepted: number; duplicatesCollapsed: number } };
    expect(report.reason.code).toBe('too_few_users');
    // all 64 Mi rows were read, and all but one collapsed as duplicates
    expect(report.report.rowsAccepted).toBe(2 ** 26);
    expect(report.report.duplicatesCollapsed).toBe(2 ** 26 - 1);
    expect((await activeModel(info.apiUrl, info.key))!.version).toBe(activeBefore);
    expect(existsSync(join(dataDir, 'queue', 'failed')) ? readdirSync(join(dataDir, 'queue', 'failed')) : []).toEqual([]);
    expect(queued()).toEqual([]);
    expect(stack.child.exitCode).toBeNull(); // the stack is still up
  });

  test('started with --training-memory 300, a file whose distinct pairs need more is refused while reading, naming the --training-memory that accepts it; the stack stays up', async () => {
    // after the tests above, the same data folder; alone, a fresh one with the sample model
    const alone = running.length === 0;
    if (!alone) await kill9(running[running.length - 1]);
    const small = start(['--training-memory', '300', ...(alone ? ['--fresh', '--sample-users', '200'] : [])]);
    info = await ready(small, dataDir);
    const activeBefore = (await activeModel(info.apiUrl, info.key))!.version;
    // 3,000 users × 100 distinct movies: 300,000 pairs
    const rows: string[] = [];
    for (let u = 1; u <= 3000; u++) for (let j = 0; j < 100; j++) rows.push(`${u},${1 + ((u * 7 + j * 13) % 5000)}`);
    await putObject(info.s3Endpoint, info.bucket, 'uploads/wide.csv', Buffer.from(`userId,movieId\n${rows.join('\n')}\n`));
    await waitFor('the refusal', () => (/uploads\/wide\.csv was refused/.test(small.out()) ? true : undefined), 120_000);
    const m = /uploads\/wide\.csv was refused, the active model is unchanged: .*wide\.csv: [\d,]+ distinct \(user, movie\) pairs of [\d,]+ users and [\d,]+ movies after \d+% of the file already need more memory than the local stack's training process \(300 MB\) can give training; the whole file needs about [\d,]+ MB: restart the stack with --training-memory (\d+)/.exec(small.out());
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(300);
    const report = (await (await fetch(`${info.s3Endpoint}/${info.bucket}/reports/uploads/wide.csv.json`)).json()) as { reason: { code: string } };
    expect(report.reason.code).toBe('too_large');
    expect((await activeModel(info.apiUrl, info.key))!.version).toBe(activeBefore);
    expect(queued()).toEqual([]);
  });
});
