// The movierec CLI end to end, as a user runs it: a real process, real files, exit codes and messages.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmeans } from '../../functions/core/kmeans';
import { buildMatrix } from '../../functions/core/matrix';
import { readRatings } from '../../functions/core/ratings';
import { runCli as run } from '../support/cli';

describe('movierec CLI', () => {
  let dir: string;
  let ratings: string;
  let model: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'movierec-cli-'));
    ratings = join(dir, 'ratings.csv');
    model = join(dir, 'model.json');
    const g = await run(['generate', '--users', '300', '--movies', '400', '--ratings', '12000', '--clusters', '4', '--seed', '7', '--out', ratings]);
    expect(g.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generate is deterministic: the same arguments give the same bytes', async () => {
    const again = join(dir, 'again.csv');
    await run(['generate', '--users', '300', '--movies', '400', '--ratings', '12000', '--clusters', '4', '--seed', '7', '--out', again]);
    expect(readFileSync(again).equals(readFileSync(ratings))).toBe(true);
  });

  it('train writes a model and assignments and prints a summary', async () => {
    const assignments = join(dir, 'assignments.csv');
    const r = await run(['train', '--ratings', ratings, '--k', '6', '--n-init', '2', '--out', model, '--assignments-out', assignments, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/users 300 · movies \d+ · interactions 12,000/);
    expect(r.stdout).toMatch(/k=6 n_init=2 random_state=0 · best inertia [\d.]+ after \d+ iterations/);
    const snap = JSON.parse(readFileSync(model, 'utf8'));
    expect(snap).toMatchObject({ kind: 'movierec-model', schemaVersion: 1, params: { k: 6, nInit: 2 } });
    const lines = readFileSync(assignments, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('userId,cluster');
    expect(lines).toHaveLength(301);
    const clusters = new Set(snap.clusters.map((c: { id: number }) => c.id));
    for (const l of lines.slice(1)) expect(clusters.has(Number(l.split(',')[1]))).toBe(true);
  });

  it('recommend --user returns JSON without the user’s own movies; --all writes every user', async () => {
    const snap = JSON.parse(readFileSync(model, 'utf8'));
    const u = snap.users;
    const r = await run(['recommend', '--model', model, '--user', String(u.ids[0]), '--n', '5']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe('cluster');
    expect(out.items).toHaveLength(5);
    const own = new Set(u.movies.slice(u.moviePtr[0], u.moviePtr[1]));
    for (const it of out.items) expect(own.has(it.movieId)).toBe(false);

    const recs = join(dir, 'recs.csv');
    expect((await run(['recommend', '--model', model, '--all', '--n', '10', '--out', recs])).code).toBe(0);
    const rows = readFileSync(recs, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('userId,rank,movieId,score');
    const byUser = new Map<number, number[]>();
    for (const row of rows.slice(1)) {
      const [user, rank, movie] = row.split(',').map(Number);
      const list = byUser.get(user) ?? [];
      expect(rank).toBe(list.length + 1);
      list.push(movie);
      byUser.set(user, list);
    }
    expect(byUser.size).toBe(300);
    u.ids.forEach((id: number, i: number) => {
      const mine = new Set(u.movies.slice(u.moviePtr[i], u.moviePtr[i + 1]));
      for (const m of byUser.get(id)!) expect(mine.has(m)).toBe(false);
    });
  });

  it('recommend for an unknown user answers with the most popular movies, marked as such', async () => {
    const r = await run(['recommend', '--model', model, '--user', '987654', '--n', '3']);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ source: 'popular', cluster: null });
    expect(out.note).toMatch(/not in the model/);
  });

  it('inspect prints the data-quality report and a matrix window', async () => {
    const r = await run(['inspect', '--ratings', ratings, '--users', '3', '--movies', '4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"rowsRead": 12000/);
    const windowLines = r.stdout.trim().split('\n').slice(-3);
    for (const l of windowLines) expect(l.trim().split(/\s+/).slice(1)).toHaveLength(4);
  });

  it('elbow prints inertia by k and writes an SVG chart', async () => {
    const svg = join(dir, 'elbow.svg');
    const r = await run(['elbow', '--ratings', ratings, '--from', '2', '--to', '4', '--n-init', '1', '--out', svg]);
    expect(r.code).toBe(0);
    const ks = r.stdout.split('\n').filter((l) => /^\s*[234]\s/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(ks).toEqual([2, 3, 4]);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });

  it("elbow defaults to the seed's elbow (n_init 10, seed 0) and says so", async () => {
    const r = await run(['elbow', '--ratings', ratings, '--from', '5', '--to', '5']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^elbow: k 5–5, n_init 10, random_state 0, max_iter 300$/m);
    const { interactions } = await readRatings(ratings);
    const direct = await kmeans(buildMatrix(interactions).matrix, { k: 5, nInit: 10, maxIter: 300, tol: 1e-4, randomState: 0 });
    const line = r.stdout.split('\n').find((l) => /^5\s/.test(l))!;
    expect(line.trim().split(/\s+/)[1]).toBe(direct.inertia.toFixed(2));
  });

  it.each([
    [['train', '--ratings', '/definitely/missing.csv', '--out', 'x.json'], /ratings file \/definitely\/missing.csv does not exist/],
    [['train', '--out', 'x.json'], /^movierec train: --ratings FILE is needed \(see: movierec train --help\)\.$/m],
    [['recommend', '--user', '1'], /^movierec recommend: --model model\.json is needed/m],
    [['train', '--ratings', 'README.md', '--out', 'x.json', '--k', 'many'], /--k must be an integer/],
    [['train', '--ratings', 'README.md', '--out', 'x.json', '--bogus'], /Unknown option '--bogus'/],
    [['recommend', '--model', 'package.json', '--user', '1'], /not a valid movierec model/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('fails with one clear sentence: %j', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr).not.toMatch(/movierec \w+: movierec \w+ /); // the command is named once
  });

  it('refuses a malformed ratings file, naming the line, and writes no model', async () => {
    const bad = join(dir, 'bad.csv');
    const out = join(dir, 'never.json');
    writeFileSync(bad, 'userId,movieId,rating\n1,2,3\nx,3,4\n2,3,4\n');
    const r = await run(['train', '--ratings', bad, '--out', out, '--k', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 3/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('doctor is a command: listed, with help, and a bad setting is one sentence and exit code 1 before any AWS call', async () => {
    const usage = await run(['--help']);
    expect(usage.stdout).toMatch(/^  doctor +before `cdk deploy`: what the stage would hit in your AWS account/m);
    const help = await run(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('movierec doctor [--stage dev|prod] [-c key=value ...]');
    const bad = await run(['doctor', '--stage', 'prod', '-c', 'apiProvisioned=many']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('movierec doctor: apiProvisioned must be an integer from 0 to 1000, got "many".');
  });
});
