import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { generateRatings, movieCluster, plantedCluster, userActivity, type GenerateOptions } from '../../offline/generate';
import { readRatings } from '../../functions/core/ratings';
import { InputError } from '../../functions/core/types';

async function generate(opts: GenerateOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await generateRatings(opts, sink);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const OPTS: GenerateOptions = { users: 300, movies: 500, ratings: 20_000, clusters: 4, seed: 7 };

describe('generateRatings', () => {
  let csv: Buffer;
  let rows: Array<{ u: number; m: number; r: number; t: number }>;
  beforeAll(async () => {
    csv = await generate(OPTS);
    const lines = csv.toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('userId,movieId,rating,timestamp');
    rows = lines.slice(1).map((l) => {
      const [u, m, r, t] = l.split(',');
      return { u: +u, m: +m, r: +r, t: +t };
    });
  });

  test('deterministic: same options give identical bytes; another seed differs', async () => {
    expect(sha(await generate(OPTS))).toBe(sha(csv));
    expect(sha(await generate({ ...OPTS, seed: 8 }))).not.toBe(sha(csv));
  });

  test('exactly the requested number of rows, every user present with ≥ 5 distinct movies', () => {
    expect(rows.length).toBe(OPTS.ratings);
    const perUser = new Map<number, Set<number>>();
    for (const { u, m } of rows) {
      const s = perUser.get(u) ?? new Set<number>();
      s.add(m);
      perUser.set(u, s);
    }
    expect(perUser.size).toBe(OPTS.users);
    expect([...perUser.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: OPTS.users }, (_, i) => i + 1));
    const sizes = [...perUser.values()].map((s) => s.size);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(5);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(OPTS.ratings); // no (user, movie) pair twice
  });

  test('ratings 0.5–5.0 in half steps, timestamps strictly increasing per user, ids in range', () => {
    const last = new Map<number, number>();
    const bad: string[] = [];
    for (const { u, m, r, t } of rows) {
      if (!(r * 2 === Math.round(r * 2) && r >= 0.5 && r <= 5)) bad.push(`rating ${r}`);
      if (!(m >= 1 && m <= OPTS.movies)) bad.push(`movie ${m}`);
      if (!(t > (last.get(u) ?? 0))) bad.push(`user ${u} timestamp ${t}`);
      last.set(u, t);
    }
    expect(bad).toEqual([]);
    expect(new Set(rows.map((x) => x.r)).size).toBeGreaterThanOrEqual(8); // the scale is used, not one value
  });

  test('planted clusters: users mostly pick their own cluster’s movies (chance would be 1/4)', () => {
    let own = 0;
    for (const { u, m } of rows) if (movieCluster(m, OPTS) === plantedCluster(u, OPTS)) own++;
    expect(own / rows.length).toBeGreaterThan(0.6);
    const sizes = new Array(4).fill(0);
    for (let u = 1; u <= OPTS.users; u++) sizes[plantedCluster(u, OPTS)]++;
    expect(Math.min(...sizes)).toBeGreaterThan(30); // every cluster is populated
  });

  test('Zipf-like popularity and heavy-tailed activity', () => {
    const perMovie = new Map<number, number>();
    const perUser = new Map<number, number>();
    for (const { u, m } of rows) {
      perMovie.set(m, (perMovie.get(m) ?? 0) + 1);
      perUser.set(u, (perUser.get(u) ?? 0) + 1);
    }
    const pop = [...perMovie.values()].sort((a, b) => b - a);
    const top10pct = pop.slice(0, Math.ceil(OPTS.movies / 10)).reduce((a, b) => a + b, 0);
    expect(top10pct / rows.length).toBeGreaterThan(0.25); // a uniform spread would give 0.10
    const act = [...perUser.values()].sort((a, b) => a - b);
    const median = act[act.length >> 1];
    expect(act[act.length - 1]).toBeGreaterThan(4 * median);
  });

  test('the output parses back through readRatings with nothing rejected', async () => {
    const { interactions, report } = await readRatings(Readable.from([csv]), { withRatings: true, withTimestamps: true });
    expect(report).toMatchObject({ format: 'csv', rowsRead: OPTS.ratings, rowsRejected: 0 });
    expect(interactions.userIds.length).toBe(OPTS.users);
    expect(interactions.ratings![0]).toBe(rows[0].r);
    expect(interactions.timestamps![0]).toBe(rows[0].t);
  });

  test('respects back-pressure and streams in pieces', async () => {
    const pass = new PassThrough({ highWaterMark: 1024 });
    let chunks = 0;
    let bytes = 0;
    const drained = (async () => {
      for await (const c of pass) {
        chunks++;
        bytes += (c as Buffer).length;
      }
    })();
    await generateRatings({ ...OPTS, ratings: 60_000, users: 1000 }, pass);
    pass.end();
    await drained;
    expect(chunks).toBeGreaterThan(1);
    expect(bytes).toBeGreaterThan(1 << 20);
  });

  test('activity sums exactly and caps at the number of movies', () => {
    const n = userActivity({ users: 10, movies: 6, ratings: 59, seed: 1 });
    expect(n.reduce((a, b) => a + b, 0)).toBe(59);
    expect(Math.max(...n)).toBeLessThanOrEqual(6);
    expect(Math.min(...n)).toBeGreaterThanOrEqual(5);
  });

  test('every (user, movie) pair when ratings = users × movies', async () => {
    const out = (await generate({ users: 3, movies: 5, ratings: 15, seed: 2, clusters: 2 })).toString().trimEnd().split('\n');
    expect(new Set(out.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).size).toBe(15);
  });

  test.each([
    [{ users: 10, movies: 100, ratings: 49, seed: 1 }, /at least 50 ratings/],
    [{ users: 2, movies: 5, ratings: 11, seed: 1 }, /exceed 2 users × 5 movies/],
    [{ users: 0, movies: 5, ratings: 5, seed: 1 }, /users must be an integer ≥ 1/],
    [{ users: 2, movies: 5, ratings: 10, seed: 1, clusters: 6 }, /clusters \(6\) cannot exceed movies/],
    [{ users: 2, movies: 5, ratings: 10, seed: -1 }, /seed must be an integer ≥ 0/],
  ])('refuses impossible options %j', async (opts, msg) => {
    const p = generate(opts);
    await expect(p).rejects.toBeInstanceOf(InputError);
    await expect(p).rejects.toThrow(msg);
  });
});
