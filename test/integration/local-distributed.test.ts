// `npm start -- --distributed` as a user runs it: `movierec local --distributed --shards 2` in a child process.
// The start-up file is routed to the training state machine (the definition synthesized from the stack, run
// offline with the real handlers), trained with 2 partitions, published and served; GET /models/active shows
// the training's status.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(300_000);

const root = join(__dirname, '..', '..');
const cli = join(root, 'bin', 'movierec.js');

/** Two taste groups (users 1..10 watch movies 1..5, except that user 1 never watched movie 5; users 11..20
 * watch movies 101..106): with k=2 the clusters are the groups, and user 1's one recommendation is movie 5. */
function twoGroupsCsv(): string {
  const rows = ['userId,movieId,rating,timestamp'];
  let t = 964982703;
  for (let u = 1; u <= 10; u++) for (let m = 1; m <= 5; m++) if (!(u === 1 && m === 5)) rows.push(`${u},${m},4.0,${t++}`);
  for (let u = 11; u <= 20; u++) for (let m = 101; m <= 106; m++) rows.push(`${u},${m},3.5,${t++}`);
  return rows.join('\n') + '\n';
}

let dir: string;
let child: ChildProcess;
let out = '';
let err = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'movierec-local-sfn-'));
  const file = join(dir, 'groups.csv');
  writeFileSync(file, twoGroupsCsv());
  const env: NodeJS.ProcessEnv = { ...process.env, TRAINING_PARAMS: JSON.stringify({ algorithm: 'seed', k: 2, nInit: 3 }) };
  delete env.MOVIEREC_API_KEY;
  delete env.PORT;
  child = spawn(process.execPath, [cli, 'local', '--port', '0', '--s3-port', '0', '--fresh', '--data-dir', join(dir, 'data'), '--ratings', file, '--distributed', '--shards', '2'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the start-up file trains on the state machine with 2 partitions, is served, and /models/active shows the training', async () => {
  const t0 = Date.now();
  let ready: string | undefined;
  while (!(ready = /^ready: (http:\/\/localhost:\d+)$/m.exec(out)?.[1])) {
    if (Date.now() - t0 > 240_000 || child.exitCode !== null) throw new Error(`no ready: line\nstdout:\n${out}\nstderr:\n${err}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const api = ready.replace('localhost', '127.0.0.1');
  const key = readFileSync(join(dir, 'data', 'api-key'), 'utf8').trim();
  const get = async (path: string) => {
    const res = await fetch(`${api}${path}`, { headers: { 'x-api-key': key } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  expect(out).toContain('train on the state machine');
  const active = await get('/models/active');
  expect(active.status).toBe(200);
  expect(active.body).toMatchObject({ users: 20, source: { key: 'uploads/groups.csv' } });
  expect(active.body.clusters.map((c: { size: number }) => c.size).sort()).toEqual([10, 10]);
  expect(active.body.training).toMatchObject({ version: active.body.version, mode: 'distributed', phase: 'published', partitions: 2 });
  const recs = await get('/users/1/recommendations?n=5');
  expect(recs.status).toBe(200);
  expect(recs.body.source).toBe('cluster');
  expect(recs.body.items.map((i: { movieId: number }) => i.movieId)).toEqual([5]);
});
