// Sections 2 and 3: publish a trained model to dynalite, then serve it — the API handler in-process
// (interleaved with raw GetItem calls on the same dynalite, the physical floor), and the local stack over
// HTTP with autocannon.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDocClient } from '../../functions/adapters/aws';
import { keys } from '../../functions/adapters/dynamo/layout';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { publishModel } from '../../functions/app/publish';
import { mulberry32 } from '../../offline/generate';
import { readMovies } from '../../functions/core/movies';
import { fromSnapshot, ModelSnapshot } from '../../functions/core/snapshot';
import { generateMovies } from '../../offline/generate';
import { API_STORE_OPTIONS, makeHandler } from '../../functions/handlers/api';
import { startStack } from '../../local/emulators';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../../test/unit/handlers-fakes';
import { ROOT } from './proc';
import { latency, Latency } from './stats';

export const STAGE = 'bench';
export const VERSION = 'v1';
const UNKNOWN_BASE = 900_000_000;

export type Stack = Awaited<ReturnType<typeof startStack>>;

export interface PublishRow {
  users: number;
  interactions: number;
  items: number;
  requests: number;
  batchRequests: number;
  otherRequests: number;
  retriedItems: number;
  seconds: number;
}

export function loadSnapshot(file: string): ModelSnapshot {
  return fromSnapshot(JSON.parse(readFileSync(file, 'utf8')), file).snapshot;
}

export async function benchPublish(stack: Stack, snapshot: ModelSnapshot): Promise<PublishRow> {
  const store = new DynamoModelStore({ doc: makeDocClient(stack.dynamo), usersTable: stack.tables.users, clustersTable: stack.tables.clusters });
  const t = performance.now();
  const { model } = fromSnapshot(structuredClone(snapshot));
  const res = await publishModel(store, model, VERSION, { bucket: 'bench', key: 'uploads/bench.csv' }, { sourceOrder: '1' });
  const seconds = (performance.now() - t) / 1000;
  if (res.status !== 'published') throw new Error(`publish of the benchmark model returned ${res.status}`);
  const s = res.stats!;
  const other = Object.entries(store.calls)
    .filter(([name]) => name !== 'BatchWriteCommand')
    .reduce((a, [, n]) => a + n, 0);
  return {
    users: snapshot.users.ids.length,
    interactions: snapshot.users.movies.length,
    items: s.items,
    requests: s.batchRequests + other,
    batchRequests: s.batchRequests,
    otherRequests: other,
    retriedItems: s.retriedItems,
    seconds,
  };
}

/** Known user ids at random, one in ten replaced by an id the model does not have. */
export function userSequence(ids: ArrayLike<number>, n: number, seed = 7): number[] {
  const r = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(r() < 0.1 ? UNKNOWN_BASE + Math.floor(r() * 1e6) : ids[Math.floor(r() * ids.length)]);
  }
  return out;
}

export interface InProcessRow {
  requests: number;
  handler: Latency;
  getItem: Latency;
  readsPerRequest: number;
  unknownShare: number;
  /** where a request's time goes: the DynamoDB calls that ended during it by command (wall time; a background
   * counter refresh counts in the request it ends in) and the rest (the handler's own work: middleware, merging,
   * JSON); each as p50/p99 over all requests and as the mean over the slowest 1% */
  breakdown?: BreakdownRow[];
}

export interface BreakdownRow {
  part: string;
  p50: number;
  p99: number;
  /** mean over the requests at or above the handler's p99 */
  slowestMean: number;
}

/** A document client whose send() adds each call's wall time to `spent` under its command's name. Requests are
 * measured one at a time, so everything spent between two resets belongs to one request. */
function timedDoc(doc: DynamoDBDocumentClient, spent: Map<string, number>): DynamoDBDocumentClient {
  const timed = Object.create(doc) as DynamoDBDocumentClient;
  timed.send = (async (cmd: { constructor: { name: string } }, ...rest: unknown[]) => {
    const t = performance.now();
    try {
      return await (doc.send as (...a: unknown[]) => Promise<unknown>)(cmd, ...rest);
    } finally {
      const name = cmd.constructor.name.replace(/Command\d*$/, '');
      spent.set(name, (spent.get(name) ?? 0) + performance.now() - t);
    }
  }) as DynamoDBDocumentClient['send'];
  return timed;
}

function breakdown(total: Float64Array, parts: Map<string, Float64Array>): BreakdownRow[] {
  const n = total.length;
  // background counter refreshes (API_STORE_OPTIONS) end inside some request and count there, so the rest can
  // come out below zero: it is clamped
  const own = Float64Array.from(total, (t, i) => Math.max(0, t - [...parts.values()].reduce((a, p) => a + p[i], 0)));
  const cut = latency(total).p99;
  const slow = [...total.keys()].filter((i) => total[i] >= cut);
  const row = (part: string, xs: Float64Array): BreakdownRow => ({
    part,
    p50: latency(xs).p50,
    p99: latency(xs).p99,
    slowestMean: slow.reduce((a, i) => a + xs[i], 0) / Math.max(1, slow.length),
  });
  return [row('whole request', total), ...[...parts].map(([k, xs]) => row(`DynamoDB ${k}`, xs)), row('handler work (the rest)', own)].filter(
    (r) => n > 0 && (r.p99 > 0 || r.part === 'whole request'),
  );
}

/** The API handler in-process, each request followed by one raw GetItem of the same user's item (same
 * dynalite, same client settings), so both see the same machine load. Caches are warmed first. */
export async function benchInProcess(stack: Stack, snapshot: ModelSnapshot, n: number): Promise<InProcessRow> {
  const doc = makeDocClient(stack.dynamo);
  const spent = new Map<string, number>();
  // configured as the deployed API configures it
  const store = new DynamoModelStore({ doc: timedDoc(doc, spent), usersTable: stack.tables.users, clustersTable: stack.tables.clusters, ...API_STORE_OPTIONS });
  const handler = makeHandler({
    store,
    idempotency: new DynamoDBPersistenceLayer({ tableName: stack.tables.idempotency, awsSdkV3Client: stack.dynamo }),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const ids = snapshot.users.ids;
  const get = (u: number) => doc.send(new GetCommand({ TableName: stack.tables.users, Key: { pk: keys.userPk(VERSION, u), sk: keys.userSk(0) } }));
  const ask = async (u: number) => {
    const res = await handler(apiEvent('GET', `/users/${u}/recommendations`), lambdaContext);
    if (res.statusCode !== 200) throw new Error(`GET /users/${u}/recommendations answered ${res.statusCode}: ${res.body}`);
  };
  // warm-up: every cluster's list and the popular list reach the handler's cache, the SDK's sockets open
  for (const u of userSequence(ids, 500, 1)) {
    await ask(u);
    await get(u);
  }
  const users = userSequence(ids, n);
  const h = new Float64Array(n);
  const g = new Float64Array(n);
  const parts = new Map<string, Float64Array>();
  const readsBefore = store.reads;
  for (let i = 0; i < n; i++) {
    spent.clear();
    const t0 = performance.now();
    await ask(users[i]);
    const t1 = performance.now();
    await get(users[i]);
    h[i] = t1 - t0;
    g[i] = performance.now() - t1;
    for (const [k, ms] of spent) {
      if (!parts.has(k)) parts.set(k, new Float64Array(n));
      parts.get(k)![i] = ms;
    }
  }
  return {
    requests: n,
    handler: latency(h),
    getItem: latency(g),
    readsPerRequest: (store.reads - readsBefore) / n,
    unknownShare: users.filter((u) => u >= UNKNOWN_BASE).length / n,
    breakdown: breakdown(h, parts),
  };
}

export interface FilteredRow {
  requests: number;
  /** movies in the catalogue loaded for this phase */
  catalogue: number;
  /** the filter query strings, used in turn */
  queries: string[];
  unfiltered: Latency;
  filtered: Latency;
  getItem: Latency;
  readsUnfiltered: number;
  readsFiltered: number;
  /** share of filtered answers that were full pages (n items) */
  fullPages: number;
}

/**
 * Filters next to no filters, with a movie catalogue loaded (genre filters need one): per user, the unfiltered
 * request and a filtered one (in alternating order, so neither always runs second) and the raw GetItem floor.
 * The filters rotate: one genre, two excluded genres, and genres with an excluded genre and 20 excluded ids
 * (the most popular movies: ones the lists really hold).
 */
export async function benchFiltered(stack: Stack, snapshot: ModelSnapshot, n: number): Promise<FilteredRow> {
  const doc = makeDocClient(stack.dynamo);
  const store = new DynamoModelStore({ doc, usersTable: stack.tables.users, clustersTable: stack.tables.clusters });
  const movies = Math.max(...snapshot.popular.movieIds);
  const catalogue = await readMovies(Readable.from([generateMovies({ movies, seed: 0 })]), { sourceName: 'generated movies.csv' });
  await store.putMovies([...catalogue].map(([movieId, m]) => ({ movieId, ...m })), 'bench');
  const handler = makeHandler({
    store,
    idempotency: new DynamoDBPersistenceLayer({ tableName: stack.tables.idempotency, awsSdkV3Client: stack.dynamo }),
    logger: silentLogger(),
    metrics: quietMetrics(),
  });
  const popular = snapshot.popular.movieIds.slice(0, 20).join(',');
  const queries = ['genre=Drama', 'excludeGenre=Horror,Thriller', `genre=Comedy,Action&excludeGenre=Horror&exclude=${popular}`];
  const ids = snapshot.users.ids;
  const get = (u: number) => doc.send(new GetCommand({ TableName: stack.tables.users, Key: { pk: keys.userPk(VERSION, u), sk: keys.userSk(0) } }));
  let full = 0;
  const ask = async (u: number, query?: string) => {
    const q: Record<string, string> = {};
    for (const part of query ? query.split('&') : []) {
      const [k, v] = part.split('=');
      q[k] = v;
    }
    const res = await handler(apiEvent('GET', `/users/${u}/recommendations`, { query: q }), lambdaContext);
    if (res.statusCode !== 200) throw new Error(`GET /users/${u}/recommendations?${query ?? ''} answered ${res.statusCode}: ${res.body}`);
    if (query && (JSON.parse(res.body) as { items: unknown[] }).items.length === 10) full++;
  };
  for (const [i, u] of userSequence(ids, 500, 1).entries()) {
    await ask(u);
    await ask(u, queries[i % queries.length]);
    await get(u);
  }
  full = 0;
  const users = userSequence(ids, n);
  const plain = new Float64Array(n);
  const filtered = new Float64Array(n);
  const g = new Float64Array(n);
  let readsPlain = 0;
  let readsFiltered = 0;
  const timed = async (u: number, query?: string) => {
    const r0 = store.reads;
    const t0 = performance.now();
    await ask(u, query);
    const ms = performance.now() - t0;
    if (query) readsFiltered += store.reads - r0;
    else readsPlain += store.reads - r0;
    return ms;
  };
  for (let i = 0; i < n; i++) {
    const q = queries[i % queries.length];
    if (i % 2 === 0) {
      plain[i] = await timed(users[i]);
      filtered[i] = await timed(users[i], q);
    } else {
      filtered[i] = await timed(users[i], q);
      plain[i] = await timed(users[i]);
    }
    const t = performance.now();
    await get(users[i]);
    g[i] = performance.now() - t;
  }
  return {
    requests: n,
    catalogue: catalogue.size,
    queries,
    unfiltered: latency(plain),
    filtered: latency(filtered),
    getItem: latency(g),
    readsUnfiltered: readsPlain / n,
    readsFiltered: readsFiltered / n,
    fullPages: full / n,
  };
}

export interface HttpRow {
  seconds: number;
  connections: number;
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  startSeconds: number;
  command: string;
}

/** `movierec local` on a fresh data folder with the given ratings, then autocannon over loopback. */
export async function benchHttp(opts: {
  ratings: string;
  userIds: ArrayLike<number>;
  dataDir: string;
  seconds: number;
  connections: number;
  log: (s: string) => void;
}): Promise<HttpRow> {
  const apiKey = 'bench-key-0123456789';
  const args = ['bin/movierec.js', 'local', '--port', '0', '--s3-port', '0', '--fresh', '--data-dir', opts.dataDir, '--ratings', opts.ratings];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, MOVIEREC_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`movierec local did not print "ready:" within 600 s:\n${output.slice(-2000)}`)), 600_000);
      const onData = (b: Buffer) => {
        output += b.toString();
        const m = /ready: (http:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace('localhost', '127.0.0.1'));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`movierec local exited with ${code} before it was ready:\n${output.slice(-2000)}`));
      });
    });
    const startSeconds = (performance.now() - t0) / 1000;
    opts.log(`  local stack ready at ${url} after ${startSeconds.toFixed(1)} s; autocannon for ${opts.seconds} s…`);
    const users = userSequence(opts.userIds, 100_000, 11);
    let next = 0;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const autocannon = require('autocannon') as (o: Record<string, unknown>) => Promise<AutocannonResult>;
    const r = await autocannon({
      url,
      connections: opts.connections,
      duration: opts.seconds,
      headers: { 'x-api-key': apiKey },
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/users/${users[next++ % users.length]}/recommendations` }) }],
    });
    return {
      seconds: opts.seconds,
      connections: opts.connections,
      requests: r.requests.total,
      reqPerSec: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      startSeconds,
      command: `node ${args.join(' ')}`,
    };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

