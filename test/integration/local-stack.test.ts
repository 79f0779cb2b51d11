// `npm start` as a user runs it: `movierec local` in a child process on free ports with its own data folder.
// It must reach `ready:`, train an ml-latest-small-format file uploaded with a plain HTTP PUT to the local S3
// endpoint (key with a space: the bridge must URL-encode it as S3 does and the handler decode it), answer every
// API route over HTTP with and without the key, refuse a busy port in one sentence, and stop cleanly on SIGTERM.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paramsFromEnv } from '../../functions/handlers/train';

const root = join(__dirname, '..', '..');
const cli = join(root, 'bin', 'movierec.js');

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.MOVIEREC_API_KEY; // the test checks the generated key
  delete env.PORT;
  return env;
}

function start(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [cli, 'local', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** Two taste groups, MovieLens ratings.csv layout. Group A (users 1..10) watch movies 1..5, except that user 1
 * never watched movie 5; group B (users 11..10+b) watch movies 101..106. With k=2 the clusters are the groups,
 * so by hand: user 1's only recommendation is movie 5, liked by 9 users of the cluster. */
function twoGroupsCsv(groupB = 10): string {
  const rows = ['userId,movieId,rating,timestamp'];
  let t = 964982703;
  for (let u = 1; u <= 10; u++) for (let m = 1; m <= 5; m++) if (!(u === 1 && m === 5)) rows.push(`${u},${m},4.0,${t++}`);
  for (let u = 11; u <= 10 + groupB; u++) for (let m = 101; m <= 106; m++) rows.push(`${u},${m},3.5,${t++}`);
  return rows.join('\n') + '\n';
}

/** K-means with k=2 in the seed project's algorithm (named explicitly where the trainer offers a choice). */
function seedK2(): string {
  const params: Record<string, unknown> = { k: 2, nInit: 3, algorithm: 'seed' };
  try {
    paramsFromEnv({ TRAINING_PARAMS: JSON.stringify(params) });
  } catch {
    delete params.algorithm; // a trainer without a choice of algorithm is the seed's
  }
  return JSON.stringify(params);
}

describe('movierec local (npm start)', () => {
  let dir: string;
  let dataDir: string;
  let stack: Running;
  let api: string;
  let key: string;
  let info: { pid: number; apiUrl: string; s3Endpoint: string; dynamoEndpoint: string; bucket: string };

  const call = (path: string, init: RequestInit & { apiKey?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const k = init.apiKey === undefined ? key : init.apiKey;
    if (k !== null) headers.set('x-api-key', k);
    return fetch(`${api}${path}`, { ...init, headers });
  };
  const json = async (path: string, init: RequestInit & { apiKey?: string | null } = {}) => {
    const res = await call(path, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'movierec-local-'));
    dataDir = join(dir, 'data');
    // k=2 through the stack's own TRAINING_PARAMS variable; the first start trains a hand-made file (the generated
    // sample of a plain first start has its own test below)
    const first = join(dir, 'first.csv');
    writeFileSync(first, twoGroupsCsv(9));
    stack = start(['--port', '0', '--s3-port', '0', '--fresh', '--data-dir', dataDir, '--ratings', first], childEnv({ TRAINING_PARAMS: seedK2() }));
    const ready = await waitFor('ready:', () => /^ready: (http:\/\/localhost:\d+)$/m.exec(stack.out())?.[1], 90_000).catch((e) => {
      throw new Error(`${e.message}\nstdout:\n${stack.out()}\nstderr:\n${stack.err()}`);
    });
    api = ready.replace('localhost', '127.0.0.1');
    key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    info = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'));
  });

  afterAll(async () => {
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      stack.child.kill('SIGKILL');
      await stack.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the generated key once with copy-paste curl commands, the upload recipes and then ready:', () => {
    const out = stack.out();
    expect(key).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(out).toContain(`API key              ${key} (new, saved in`);
    const lines = out.split('\n');
    const readyAt = lines.findIndex((l) => l.startsWith('ready: '));
    const liveAt = lines.findIndex((l) => /^model [0-9a-f]{16} is live: 19 users in 2 clusters, from uploads\/first\.csv/.test(l));
    expect(liveAt).toBeGreaterThan(-1);
    expect(readyAt).toBe(lines.length - 2); // the last line printed
    expect(lines[lines.length - 1]).toBe('');
    expect(liveAt).toBeLessThan(readyAt);
    const port = new URL(api).port;
    expect(out).toContain(`curl -H 'x-api-key: ${key}' 'http://localhost:${port}/users/1/recommendations?n=5'`);
    expect(out).toContain(`curl -H 'x-api-key: ${key}' http://localhost:${port}/users/1/movies`);
    expect(out).toContain(`curl -H 'x-api-key: ${key}' http://localhost:${port}/models/active`);
    expect(out).toContain(`-d '{"movieId": 318}' http://localhost:${port}/users/1/movies`);
    expect(out).toContain('npx movierec upload FILE');
    expect(out).toContain(`curl -T FILE ${info.s3Endpoint}/${info.bucket}/uploads/NAME.csv`);
  });

  it('trains a file PUT over plain HTTP to the local S3 endpoint and switches the active model', async () => {
    const before = await json('/models/active');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ users: 19, source: { key: 'uploads/first.csv' } });

    const put = await fetch(`${info.s3Endpoint.replace('localhost', '127.0.0.1')}/${info.bucket}/uploads/two%20groups.csv`, {
      method: 'PUT',
      body: twoGroupsCsv(),
    });
    expect(put.status).toBe(200);
    const after = await waitFor(
      'the new model version',
      async () => {
        const r = await json('/models/active');
        return r.status === 200 && r.body.version !== before.body.version ? r : undefined;
      },
      60_000,
    );
    expect(after.body.previous).toBe(before.body.version);
    expect(after.body.source.key).toBe('uploads/two groups.csv'); // decoded from the S3-encoded `two+groups.csv`
    expect(after.body.users).toBe(20);
    expect(after.body.clusters.map((c: { size: number }) => c.size).sort()).toEqual([10, 10]);
    expect(stack.out()).toMatch(/model [0-9a-f]{16} is live: 20 users in 2 clusters, from uploads\/two groups\.csv/);
  });

  it('answers every route with the key, 401 without it and 403 with a wrong one', async () => {
    const routes: [string, string, RequestInit][] = [
      ['GET', '/health', {}],
      ['GET', '/openapi.json', {}],
      ['GET', '/models/active', {}],
      ['GET', '/users/1/recommendations', {}],
      ['GET', '/users/1/movies', {}],
      ['POST', '/users/12/movies', { body: '{"movieId": 1}', headers: { 'content-type': 'application/json' } }],
    ];
    for (const [method, path, init] of routes) {
      const none = await json(path, { ...init, method, apiKey: null });
      expect([path, none.status, none.body.error]).toEqual([path, 401, 'unauthorized']);
      const wrong = await json(path, { ...init, method, apiKey: `${key.slice(1)}x` });
      expect([path, wrong.status, wrong.body.error]).toEqual([path, 403, 'forbidden']);
    }

    expect(await json('/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const doc = await json('/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/health', '/models/active', '/users/{userId}/recommendations', '/users/{userId}/movies']),
    );

    // worked by hand in twoGroupsCsv: movie 5, liked by 9 of the 10 users in user 1's cluster
    const recs = await json('/users/1/recommendations?n=5');
    expect(recs.status).toBe(200);
    expect(recs.body.source).toBe('cluster');
    expect(recs.body.items.map((i: { movieId: number; score: number }) => [i.movieId, i.score])).toEqual([[5, 9]]);

    const mine = await json('/users/1/movies');
    expect(mine.body).toMatchObject({ userId: 1, count: 4 });
    expect(mine.body.movies.map((m: { movieId: number }) => m.movieId)).toEqual([1, 2, 3, 4]);

    // the favourite counts movie 5 once more in the cluster (9 → 10) and takes it off the user's list
    const fav = await json('/users/1/movies', {
      method: 'POST',
      body: JSON.stringify({ movieId: 5 }),
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'local-stack-test-1' },
    });
    expect(fav.status).toBe(200);
    expect(fav.body).toMatchObject({ userId: 1, movieId: 5, added: true, count: 10, newUser: false });
    const replay = await json('/users/1/movies', {
      method: 'POST',
      body: JSON.stringify({ movieId: 5 }),
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'local-stack-test-1' },
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.count).toBe(10);
    expect((await json('/users/1/movies')).body.count).toBe(5);
    expect((await json('/users/1/recommendations')).body.items).toEqual([]);

    // an unknown user gets the most popular movies; bad input is a 400 and an unknown route a 404, as JSON
    const unknown = await json('/users/999/recommendations?n=2');
    expect(unknown.body).toMatchObject({ source: 'popular', cluster: null });
    expect(unknown.body.items).toHaveLength(2);
    expect((await json('/users/abc/recommendations')).status).toBe(400);
    expect((await json('/users/1/movies', { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await json('/nope')).status).toBe(404);
  });

  it('movierec upload: a malformed file is refused with its reason and loses nothing; movies.csv adds titles', async () => {
    const upload = (file: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [cli, 'upload', file, '--data-dir', dataDir, '--timeout', '60'], { cwd: root, env: childEnv() }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const active = (await json('/models/active')).body.version;
    const bad = join(dir, 'no-header.csv');
    writeFileSync(bad, 'title,year\nHeat,1995\n'); // a CSV, but not of ratings: the reader refuses its header
    const refused = await upload(bad);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`to s3://${info.bucket}/uploads/no-header.csv`);
    expect(refused.stderr).toMatch(/^movierec upload: uploads\/no-header\.csv was refused and the active model is unchanged: .*line 1.*header/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect((await json('/models/active')).body.version).toBe(active);

    const movies = join(dir, 'movies.csv');
    writeFileSync(movies, 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n2,"Jumanji, The (1995)",Adventure\n');
    expect((await upload(movies)).code).toBe(0);
    const titled = await waitFor(
      'the catalogue',
      async () => {
        const m = (await json('/users/1/movies')).body.movies as { movieId: number; title?: string; genres?: string[] }[];
        return m[0].title ? m : undefined;
      },
      30_000,
    );
    expect(titled.slice(0, 3)).toEqual([
      { movieId: 1, title: 'Toy Story (1995)', genres: ['Adventure', 'Animation', 'Children'] },
      { movieId: 2, title: 'Jumanji, The (1995)', genres: ['Adventure'] },
      { movieId: 3 },
    ]);
    expect((await json('/models/active')).body.version).toBe(active);
  });

  it('refuses a busy port in one sentence, without a stack trace, and leaves the running stack alone', async () => {
    const other = join(dir, 'other');
    const port = new URL(api).port;
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [cli, 'local', '--port', port, '--s3-port', '0', '--data-dir', other], { cwd: root, env: childEnv() }, (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `movierec local: Port ${port} (the API) is already in use: stop the program using it or choose another port with --port.`,
    );
    expect((await json('/health')).status).toBe(200);
  });

  it('stops on SIGTERM: exit 0, every port closed, no process left behind', async () => {
    const ports = [new URL(api).port, new URL(info.s3Endpoint).port, new URL(info.dynamoEndpoint).port].map(Number);
    for (const p of ports) expect(await refusesConnections(p)).toBe(false);
    stack.child.kill('SIGTERM');
    const { code, signal } = await stack.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stack.out()).toContain('stopped.');
    for (const p of ports) expect(await refusesConnections(p)).toBe(true);
    expect(() => process.kill(info.pid, 0)).toThrow(); // ESRCH: gone
    const ps = await new Promise<string>((resolve) => execFile('ps', ['-eo', 'pid,args'], (_e, out) => resolve(out)));
    expect(ps.split('\n').filter((l) => l.includes(dataDir))).toEqual([]);
    expect(() => readFileSync(join(dataDir, 'stack.json'))).toThrow(); // removed on a clean stop
  });

  it('keeps the model across a restart without --fresh', async () => {
    const again = start(['--port', '0', '--s3-port', '0', '--data-dir', dataDir], childEnv());
    try {
      await waitFor('ready:', () => (/^ready: /m.test(again.out()) ? true : undefined), 60_000);
      expect(again.out()).toMatch(/model [0-9a-f]{16} is live \(kept from the last run: 20 users, trained from uploads\/two groups\.csv\)/);
      expect(again.out()).not.toContain('uploading');
      expect(again.out()).toContain(`API key              ${key} (saved in`);
    } finally {
      again.child.kill('SIGTERM');
      expect((await again.exited).code).toBe(0);
    }
  });

  it('a plain first start generates a sample, uploads it, trains it with the default parameters and gets ready', async () => {
    const sampleDir = join(dir, 'sample');
    const plain = start(['--port', '0', '--s3-port', '0', '--data-dir', sampleDir, '--sample-users', '200'], childEnv());
    try {
      const url = await waitFor('ready:', () => /^ready: (http:\/\/localhost:\d+)$/m.exec(plain.out())?.[1], 90_000);
      const out = plain.out();
      expect(out).toContain('generating a sample: 200 users');
      expect(out).toContain('uploading sample-ratings-200.csv to s3://movierec-dev-local/uploads/sample-ratings.csv');
      expect(out).toMatch(/^model [0-9a-f]{16} is live: 200 users in \d+ clusters, from uploads\/sample-ratings\.csv/m);
      const k = readFileSync(join(sampleDir, 'api-key'), 'utf8').trim();
      const res = await fetch(`${url.replace('localhost', '127.0.0.1')}/models/active`, { headers: { 'x-api-key': k } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ users: 200, source: { key: 'uploads/sample-ratings.csv' } });
    } finally {
      plain.child.kill('SIGTERM');
      expect((await plain.exited).code).toBe(0);
    }
  });
});
