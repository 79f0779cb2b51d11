// Soak of the local stack (RELIABILITY.md): the real `npm start` wiring (local/stack.ts: API server over the
// Lambda handler, dynalite, s3rver, the S3 → training bridge) started in-process on loopback, then autocannon for
// a bounded time and request count with mixed traffic —
//   70% GET /users/{id}/recommendations (10% of them unknown users), 10% GET /users/{id}/movies,
//   20% POST /users/{id}/movies with an Idempotency-Key (half new users, half trained users; 1 in 10 a retry of
//   an earlier, completed key with the same body, which must be replayed and not counted)
// and, half-way, a second ratings upload so that a new model version is trained and published under load.
// Afterwards every favourite answered 2xx must be in the final active version exactly once: in the user's
// history, and counted once in the popular list of the version (the "soak movies" are ids no training file
// holds, so their expected count is exactly the number of distinct users who added them).
// Prints p50/p99 latency, status counts, lost and double-counted favourites; appends a "Soak" section to
// BENCHMARKS.md (append only). Exit code 1 on any 5xx, lost or double-counted favourite.
//
//   node bin/run-ts.js bench/soak.ts [--duration 60] [--connections 16] [--max-requests 200000] [--no-publish] [--no-record]
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { generateRatings } from '../offline/generate';
import { makeDocClient, makeDynamoClient } from '../functions/adapters/aws';
import { DynamoModelStore } from '../functions/adapters/dynamo/store';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/emulators';
import { startLocalStack } from '../local/stack';

interface Args {
  duration: number;
  connections: number;
  maxRequests: number;
  publish: boolean;
  /** append the result to BENCHMARKS.md (off with --no-record, for trial runs) */
  record: boolean;
  users: number;
  movies: number;
  ratings: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { duration: 60, connections: 16, maxRequests: 200_000, publish: true, record: true, users: 2000, movies: 1000, ratings: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} needs a positive number, got ${argv[i]}`);
      return v;
    };
    if (flag === '--duration') a.duration = Math.min(num(), 600);
    else if (flag === '--connections') a.connections = Math.min(num(), 256);
    else if (flag === '--max-requests') a.maxRequests = num();
    else if (flag === '--no-publish') a.publish = false;
    else if (flag === '--no-record') a.record = false;
    else if (flag === '--users') a.users = num();
    else throw new Error(`unknown option ${flag}; see the header of bench/soak.ts`);
  }
  return a;
}

/** the part of autocannon's result this script reads (the package ships no types) */
interface CannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  '2xx': number;
  '4xx': number;
  '5xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<CannonResult>;

const SOAK_MOVIES = Array.from({ length: 20 }, (_, i) => 9_000_000 + i); // in no training file
const NEW_USER_BASE = 50_000_000;

/** Deterministic PRNG (mulberry32) so that runs are comparable. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeRatings(file: string, args: Args, seed: number) {
  const out = createWriteStream(file);
  await generateRatings({ users: args.users, movies: args.movies, ratings: args.ratings, seed }, out);
  out.end();
  await once(out, 'close');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'movierec-soak-'));
  const log = (s: string) => process.stdout.write(s + '\n');
  const stack = await startLocalStack({
    dataDir: dir,
    fresh: true,
    port: 0,
    s3Port: 0,
    apiKey: 'soak-key',
    trainingParams: { k: 8, nInit: 2, maxIter: 100 },
    onApiError: (e) => log(`API handler threw: ${(e as Error).message}`),
  });
  const base = `http://127.0.0.1:${stack.apiPort}`;
  try {
    // 1. a first model
    const first = path.join(dir, 'ratings-1.csv');
    await writeRatings(first, args, 1);
    await stack.upload(first, 'uploads/soak-1.csv');
    await stack.bridge.idle();
    const v1 = await stack.activeVersion();
    if (!v1) throw new Error('the first upload did not publish a model; see the training report under reports/');
    log(`model ${v1} live (${args.users} users, ${args.ratings} ratings); soak ${args.duration} s × ${args.connections} connections on ${base}`);

    // 2. traffic
    const r = rng(42);
    let nextNewUser = NEW_USER_BASE;
    let keyNo = 0;
    const completed: Array<{ key: string; body: string; path: string }> = []; // POSTs answered 2xx, for retries
    const added = new Map<string, { userId: number; movieId: number }>(); // `${user}:${movie}` answered 2xx
    // every (user, movie) sent, answered or not: a request in flight when autocannon stops may still be counted
    const sent = new Map<number, Set<number>>(); // movie → users
    const postStatus: Record<string, number> = {};
    let replays = 0;
    let badReplays = 0;
    let missedReplays = 0;

    // autocannon calls onResponse(i) before setupRequest(i + 1) and resets the context in between, so the context
    // set up for a request is the one its response sees (pipelining 1)
    type Ctx = { post?: { key: string; path: string; body: string; retry: boolean } };
    const setupRequest = (req: Record<string, unknown>, ctx: Ctx) => {
      const x = r();
      const headers: Record<string, string> = { 'x-api-key': 'soak-key' };
      if (x < 0.7) {
        const user = r() < 0.1 ? 90_000_000 + Math.floor(r() * 1000) : 1 + Math.floor(r() * args.users);
        return { ...req, method: 'GET', path: `/users/${user}/recommendations?n=10`, headers, body: undefined };
      }
      if (x < 0.8) {
        const user = 1 + Math.floor(r() * args.users);
        return { ...req, method: 'GET', path: `/users/${user}/movies`, headers, body: undefined };
      }
      let post: NonNullable<Ctx['post']>;
      if (completed.length > 0 && r() < 0.1) {
        post = { ...completed[Math.floor(r() * completed.length)], retry: true };
      } else {
        const user = r() < 0.5 ? nextNewUser++ : 1 + Math.floor(r() * args.users);
        const movie = SOAK_MOVIES[Math.floor(r() * SOAK_MOVIES.length)];
        post = { key: `soak-${++keyNo}`, path: `/users/${user}/movies`, body: JSON.stringify({ movieId: movie }), retry: false };
        if (!sent.has(movie)) sent.set(movie, new Set());
        sent.get(movie)!.add(user);
      }
      ctx.post = post;
      return {
        ...req,
        method: 'POST',
        path: post.path,
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': post.key },
        body: post.body,
      };
    };
    const onResponse = (status: number, body: string, ctx: Ctx, headers: Record<string, string>) => {
      const post = ctx.post;
      if (!post) return;
      postStatus[status] = (postStatus[status] ?? 0) + 1;
      if (status < 200 || status >= 300) return;
      const replayed = Object.entries(headers ?? {}).some(([k, v]) => k.toLowerCase() === 'idempotent-replayed' && String(v) === 'true');
      if (post.retry) {
        if (replayed) replays++;
        else missedReplays++; // a retried key answered as new: it could have been counted twice
        return;
      }
      if (replayed) badReplays++; // a fresh key answered as a replay
      const json = JSON.parse(body) as { userId: number; movieId: number };
      added.set(`${json.userId}:${json.movieId}`, { userId: json.userId, movieId: json.movieId });
      completed.push({ key: post.key, path: post.path, body: post.body });
    };

    const t0 = Date.now();
    let publishAt = null as number | null;
    let v2: string | null = null;
    const publisher = (async () => {
      if (!args.publish) return;
      const second = path.join(dir, 'ratings-2.csv');
      await writeRatings(second, args, 2);
      await new Promise((res) => setTimeout(res, (args.duration * 1000) / 2));
      publishAt = (Date.now() - t0) / 1000;
      await stack.upload(second, 'uploads/soak-2.csv');
    })();

    const result = await autocannon({
      url: base,
      connections: args.connections,
      duration: args.duration,
      maxOverallRequests: args.maxRequests,
      timeout: 10,
      requests: [{ method: 'GET', path: '/health', setupRequest, onResponse }],
    });
    await publisher;
    await new Promise((res) => setTimeout(res, 2000)); // requests cut off by the end of the run finish server-side
    await stack.bridge.idle();
    const active = await stack.activeVersion();
    if (args.publish) v2 = active;

    // 3. every favourite answered 2xx is in the active version, counted once
    const doc = makeDocClient(
      makeDynamoClient({ endpoint: stack.dynamoEndpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS }),
    );
    const store = new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters, pointerTtlMs: 0 });
    // (a) every favourite answered 2xx is in its user's history in the active version
    const has = async (userId: number, movieId: number) => {
      const u = await store.getUser(active!, userId, { consistent: true });
      return !!u && (u.movies.includes(movieId) || u.favourites.includes(movieId));
    };
    let lost = 0;
    const lostExamples: string[] = [];
    for (const { userId, movieId } of added.values()) {
      if (!(await has(userId, movieId))) {
        lost++;
        if (lostExamples.length < 5) lostExamples.push(`${userId}:${movieId}`);
      }
    }
    // (b) each soak movie's count in the version's popular list equals the number of users whose history holds it
    // (every pair sent is checked, so a request cut off by the end of the run is judged by what the server did)
    const pop = await store.getPopularList(active!);
    let doubleCounted = 0;
    let undercounted = 0;
    let inFlightCounted = 0;
    for (const m of SOAK_MOVIES) {
      let present = 0;
      for (const u of sent.get(m) ?? []) if (await has(u, m)) present++;
      const i = pop.movieIds.indexOf(m);
      const got = i < 0 ? 0 : pop.counts[i];
      if (got > present) doubleCounted += got - present;
      if (got < present) undercounted += present - got;
      const answeredM = [...added.values()].filter((p) => p.movieId === m).length;
      inFlightCounted += Math.max(0, present - answeredM);
    }

    const lat = result.latency;
    const summary = {
      when: new Date().toISOString(),
      seconds: result.duration,
      connections: args.connections,
      requests: result.requests.total,
      rps: Math.round(result.requests.average),
      p50: lat.p50,
      p99: lat.p99,
      max: lat.max,
      s2xx: result['2xx'],
      s4xx: result['4xx'],
      s5xx: result['5xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      postStatus,
      favourites: added.size,
      replays,
      badReplays,
      missedReplays,
      lost,
      undercounted,
      doubleCounted,
      inFlightCounted,
      versions: args.publish ? `${v1} → ${v2} (upload at ${publishAt?.toFixed(0)} s)` : `${v1}`,
    };
    log(JSON.stringify(summary, null, 2));
    if (lostExamples.length) log(`lost favourites (user:movie), first: ${lostExamples.join(', ')}`);

    const ok = summary.s5xx === 0 && lost === 0 && undercounted === 0 && doubleCounted === 0 && badReplays === 0 && missedReplays === 0 && summary.errors === 0;
    process.exitCode = ok ? 0 : 1;
    log(ok ? 'PASS' : 'FAIL');
    if (!args.record) return;
    const file = path.resolve(process.cwd(), 'BENCHMARKS.md');
    // append only; others append to this file too, so open a "Soak" section unless the last section is one
    const sections = existsSync(file) ? readFileSync(file, 'utf8').match(/^## .*$/gm) ?? [] : [];
    const heading = sections[sections.length - 1]?.startsWith('## Soak') ? '' : '\n## Soak\n';
    if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n');
    appendFileSync(
      file,
      `${heading}\n### Soak run ${summary.when}${ok ? '' : ' — FAILED'}\n\n` +
        `\`node bin/run-ts.js bench/soak.ts ${process.argv.slice(2).join(' ')}\`: local stack in-process (API server, dynalite, s3rver, ` +
        `training bridge) and autocannon in the same process on loopback, 2 shared cores; model ${args.users} users × ${args.movies} movies, ` +
        `${args.ratings} ratings; traffic 70% GET recommendations, 10% GET movies, 20% POST favourites with Idempotency-Key (10% of them retries).\n\n` +
        `| seconds | connections | requests | req/s | p50 ms | p99 ms | max ms | 2xx | 4xx | 5xx | errors/timeouts | favourites accepted | replays | lost | double-counted | versions |\n` +
        `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n` +
        `| ${summary.seconds} | ${summary.connections} | ${summary.requests} | ${summary.rps} | ${summary.p50} | ${summary.p99} | ${summary.max} | ` +
        `${summary.s2xx} | ${summary.s4xx} | ${summary.s5xx} | ${summary.errors}/${summary.timeouts} | ${summary.favourites} | ${replays} | ` +
        `${lost + undercounted} | ${doubleCounted} | ${summary.versions} |\n`,
    );
    log(`appended to ${file}`);
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
