// Training past one function, offline: the state machine definition taken from the synthesized template
// (the one `cdk deploy` creates) runs under aws-local-stepfunctions, its Task states bound to the real
// handlers of the three training functions, against s3rver and dynalite. An upload routed to it trains with
// 4 partitions, publishes with the one pointer flip and is served; the seed algorithm's model is the
// single-function model exactly (generated data shaped like ml-latest-small; the same comparison on
// ml-latest-small itself is the recorded command in docs/SCALE.md).
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { makeDocClient } from '../../functions/adapters/aws';
import { DynamoModelStore } from '../../functions/adapters/dynamo/store';
import { DynamoTrainingStatus } from '../../functions/adapters/dynamo/training';
import { S3RunStore } from '../../functions/adapters/s3-runs';
import { activeModel } from '../../functions/app/active-model';
import { executionInput } from '../../functions/app/distributed/route';
import { handleUpload, rejectionReportKey, sourceOrderOf, versionIdOf } from '../../functions/app/upload';
import { trainModel } from '../../functions/core/train';
import type { TrainOverrides } from '../../functions/core/train';
import * as trainHandler from '../../functions/handlers/train';
import { ENV, executionNameOf, TRAINING_LEASE_KEY } from '../../functions/shared/resources';
import { bestLabels } from '../../functions/app/distributed/cluster';
import { gatherAll } from '../../functions/app/distributed/gather';
import { getContainer, runKeys } from '../../functions/app/distributed/run-files';
import { loadRun } from '../../functions/app/distributed/state';
import { columnRange } from '../../functions/core/distributed/kmeans';
import { unitValues } from '../../functions/core/distributed/shards';
import { RANGES } from '../../functions/core/kmeans';
import { paddedK } from '../../functions/core/kmeans/partition';
import { assembleModel } from '../../local/distributed-model';
import { recommendFor } from '../../functions/core/recommender/serve';
import { similarMovies } from '../../functions/core/similar';
import { makeHandler } from '../../functions/handlers/api';
import { idempotencyLayer } from '../support/idempotency';
import { apiEvent, lambdaContext, quietMetrics, silentLogger } from '../unit/handlers-fakes';
import { allStates } from '../../local/step-functions';
import { trainingMachine, type TrainingMachine } from '../../local/training-machine';
import { functionEnv, startStack } from '../support/emulators';
import { generatedCsv } from '../support/generated';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
jest.setTimeout(300_000);

const STAGE = 'dev';
let emu: Awaited<ReturnType<typeof startStack>>;
let machine: TrainingMachine;
let env: NodeJS.ProcessEnv;
let store: DynamoModelStore;
let runs: S3RunStore;
/** a worker failure to inject once: (step, item) → error */
let failOnce: { step: string; item: number; calls: number } | null = null;

beforeAll(async () => {
  emu = await startStack(STAGE);
  env = {
    ...functionEnv(STAGE, emu),
  };
  machine = await trainingMachine({
    stage: STAGE,
    env,
    cacheDir: path.join(tmpdir(), 'movierec-training-template'),
    // no waiting between retries (the definition's own intervals are seconds, with jitter)
    retryIntervalOverrides: { AssignPartition: 0 },
    wrapHandler: (role, h) => async (event, context) => {
      const e = event as { step: string; item?: number };
      if (failOnce && e.step === failOnce.step && e.item === failOnce.item && failOnce.calls++ === 0) {
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' });
      }
      return h(event, context);
    },
  });
  store = new DynamoModelStore({ doc: makeDocClient(emu.dynamo), usersTable: emu.tables.users, clustersTable: emu.tables.clusters, pointerTtlMs: 0 });
  runs = new S3RunStore(emu.s3, emu.bucket);
}, 300_000);

afterAll(async () => {
  await emu?.stop();
});

async function upload(key: string, body: Buffer) {
  const put = await emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: body }));
  return { bucket: emu.bucket, key, etag: (put.ETag ?? '').replace(/"/g, ''), eventTime: new Date().toISOString() };
}

/** The S3-triggered function's use case, routed to the state machine (as TRAINING_MODE=distributed does). */
function uploadDeps(params: TrainOverrides, options = { shards: 4 }) {
  const doc = makeDocClient(emu.dynamo);
  return {
    ...trainHandler.depsFromEnv(env),
    params,
    distributed: {
      mode: 'distributed' as const,
      starter: machine.starter,
      lease: store.lease,
      status: new DynamoTrainingStatus(doc, emu.tables.clusters),
      options,
    },
  };
}

async function single(body: Buffer, params: TrainOverrides) {
  const s = new PassThrough();
  s.end(body);
  return trainModel(s, params, { sourceName: 'generated' });
}

describe('an upload routed to the state machine', () => {
  const params: TrainOverrides = { algorithm: 'seed', nInit: 2, randomState: 3 };
  let body: Buffer;
  let ref: Awaited<ReturnType<typeof upload>>;
  let version: string;

  beforeAll(async () => {
    body = await generatedCsv({ users: 650, movies: 1500, ratings: 36_000, clusters: 6, seed: 21 });
    ref = await upload('uploads/ratings.csv', body);
    version = versionIdOf(ref);
  });

  test('starts one execution however often the event is delivered, trains with 4 partitions and publishes', async () => {
    const deps = uploadDeps(params);
    const first = await handleUpload(deps, ref);
    const again = await handleUpload(deps, ref); // redelivered while it runs
    expect(first).toEqual({ key: ref.key, status: 'training-started', version });
    expect(again.status).toBe('training-started');
    expect(machine.executions.list().filter((e) => e.name.startsWith(executionNameOf(version)))).toHaveLength(1);
    await machine.executions.idle();
    const done = await machine.executions.settled(executionNameOf(version));
    expect(done.status).toBe('SUCCEEDED');
    expect((await store.activeVersion({ fresh: true }))?.version).toBe(version);
    expect((await store.versionMeta(version, { fresh: true }))?.state).toBe('published');
    // the lease is given back by the last step; the status says published
    const lease = await makeDocClient(emu.dynamo).send(new GetCommand({ TableName: emu.tables.clusters, Key: { ...TRAINING_LEASE_KEY } }));
    expect(lease.Item).toBeUndefined();
    const status = new DynamoTrainingStatus(makeDocClient(emu.dynamo), emu.tables.clusters);
    expect(await status.get()).toMatchObject({ version, phase: 'published', partitions: 4, mode: 'distributed' });
    // GET /models/active shows it with the model
    expect(await activeModel(store, status)).toMatchObject({ version, training: { version, phase: 'published', key: ref.key } });
    // a delivery after it finished trains nothing
    expect((await handleUpload(deps, ref)).status).toBe('already-published');
    expect(machine.executions.list().filter((e) => e.name.startsWith(executionNameOf(version)))).toHaveLength(1);
  });

  test('the published model is the single-function model: every user, every cluster list, the summary', async () => {
    const want = (await single(body, params)).model;
    const meta = (await store.versionMeta(version, { fresh: true }))!;
    expect(meta.users).toBe(want.userIds.length);
    expect(meta.clusters.map((c) => [c.id, c.size, c.length])).toEqual(want.clusters.map((c) => [c.id, c.size, c.movieIds.length]));
    for (const c of want.clusters) {
      const list = await store.getClusterList(version, c.id);
      expect({ id: c.id, movieIds: list.movieIds, counts: list.counts }).toEqual({ id: c.id, movieIds: c.movieIds, counts: c.counts });
    }
    expect(await store.getPopularList(version)).toEqual(want.popular);
    for (let i = 0; i < want.userIds.length; i++) {
      const u = await store.getUser(version, want.userIds[i]);
      expect([u?.userId, u?.cluster, u?.movies]).toEqual([want.userIds[i], want.userCluster[i], want.userMovies.slice(want.userMoviePtr[i], want.userMoviePtr[i + 1])]);
    }
  });

  test('the K-means results equal the engine’s: inertias of every restart, iterations, the training report', async () => {
    const s = await single(body, params);
    const report = JSON.parse(
      await (await emu.s3.send(new GetObjectCommand({ Bucket: emu.bucket, Key: `reports/models/${version}.json` }))).Body!.transformToString(),
    );
    expect(report.training.inertias).toEqual(s.training.inertias);
    expect(report.training.iterations).toBe(s.training.iterations);
    expect(report.training.fix).toEqual(s.training.fix);
    expect(report.training.holdout).toEqual(s.training.holdout);
    expect(report.data).toEqual(s.data);
  });
});

test('a malformed upload is refused with the single path’s report; the working model keeps serving', async () => {
  const lines = ['userId,movieId,rating,timestamp', ...Array.from({ length: 400 }, (_, i) => (i % 25 === 7 ? `${i},x,3,1` : `${(i % 40) + 1},${(i % 33) + 1},3,${i}`))];
  const body = Buffer.from(lines.join('\n') + '\n');
  const before = (await store.activeVersion({ fresh: true }))?.version ?? null;
  const ref = await upload('uploads/bad.csv', body);
  const res = await handleUpload(uploadDeps({ algorithm: 'seed' }, { shards: 3 }), ref);
  expect(res.status).toBe('training-started');
  await machine.executions.idle();
  expect((await machine.executions.settled(executionNameOf(res.version!))).status).toBe('SUCCEEDED'); // ended as Rejected
  const got = JSON.parse(await (await emu.s3.send(new GetObjectCommand({ Bucket: emu.bucket, Key: rejectionReportKey(ref.key) }))).Body!.transformToString());
  // the single path's report of the same bytes (its use case, trained in place)
  const singleRef = await upload('uploads/bad-single.csv', body);
  const inPlace = await handleUpload({ ...trainHandler.depsFromEnv(env), params: { algorithm: 'seed' } }, singleRef);
  expect(inPlace.status).toBe('rejected');
  const want = JSON.parse(await (await emu.s3.send(new GetObjectCommand({ Bucket: emu.bucket, Key: rejectionReportKey(singleRef.key) }))).Body!.transformToString());
  expect(got.reason.code).toBe(want.reason.code);
  expect(got.reason.message).toBe(want.reason.message.replace('bad-single.csv', 'bad.csv'));
  expect(got.report).toEqual(want.report);
  expect((await store.activeVersion({ fresh: true }))?.version ?? null).toBe(before);
  const lease = await makeDocClient(emu.dynamo).send(new GetCommand({ TableName: emu.tables.clusters, Key: { ...TRAINING_LEASE_KEY } }));
  expect(lease.Item).toBeUndefined();
});

test('a failed worker is retried by the state machine, and the model is unchanged', async () => {
  const body = await generatedCsv({ users: 300, movies: 500, ratings: 12_000, clusters: 4, seed: 5 });
  const params: TrainOverrides = { algorithm: 'seed', k: 6, nInit: 1, randomState: 1 };
  const ref = await upload('uploads/retry.csv', body);
  const version = versionIdOf(ref);
  failOnce = { step: 'assign', item: 2, calls: 0 };
  try {
    const input = executionInput(version, ref, sourceOrderOf(ref), params, { shards: 3, publish: 'none', check: false });
    await machine.starter.start(executionNameOf(version), JSON.stringify(input));
    const done = await machine.executions.settled(executionNameOf(version));
    expect(done.status).toBe('SUCCEEDED');
    expect(failOnce.calls).toBeGreaterThan(1); // failed once, then retried (and later passes)
  } finally {
    failOnce = null;
  }
  const { model } = await assembleModel(runs, version);
  const want = (await single(body, { ...params })).model;
  expect(model.userCluster).toEqual(want.userCluster);
  expect(model.clusters).toEqual(want.clusters);
}, 300_000);

test('the default model (CL-EASE) through the state machine: the single path’s settings, clusterings, lists, local matrices, mixes and histories', async () => {
  const body = await generatedCsv({ users: 400, movies: 600, ratings: 16_000, clusters: 5, seed: 8 });
  const params: TrainOverrides = { algorithm: 'taste', k: 8, nInit: 1, randomState: 0 };
  const ref = await upload('uploads/taste.csv', body);
  const version = versionIdOf(ref);
  const input = executionInput(version, ref, sourceOrderOf(ref), params, { shards: 4, publish: 'none', check: false });
  await machine.starter.start(executionNameOf(version), JSON.stringify(input));
  expect((await machine.executions.settled(executionNameOf(version))).status).toBe('SUCCEEDED');
  const { model } = await assembleModel(runs, version);
  const s = new PassThrough();
  s.end(body);
  const want = (await trainModel(s, params, { check: false })).model;
  expect(model.userCluster).toEqual(want.userCluster);
  expect(model.clusters.map((c) => [c.id, c.size, c.movieIds, c.counts])).toEqual(want.clusters.map((c) => [c.id, c.size, c.movieIds, c.counts]));
  expect(model.mix!.ptr).toEqual(want.mix!.ptr);
  expect(model.mix!.clusters).toEqual(want.mix!.clusters);
  model.mix!.weights.forEach((w, i) => expect(Math.abs(w - want.mix!.weights[i])).toBeLessThan(1e-12));
  // the selected serving settings, each list's local EASE matrix (the same co-occurrences, the same λ) and
  // each user's newest movies
  expect(model.scoring).toEqual(want.scoring);
  expect(want.scoring!.halfLife).toBeGreaterThan(0);
  expect(model.clusters.map((c) => c.local!.movieIds)).toEqual(want.clusters.map((c) => c.local!.movieIds));
  model.clusters.forEach((c, i) => {
    const b = want.clusters[i].local!.b;
    expect(c.local!.b.length).toBe(b.length);
    let worst = 0;
    for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(c.local!.b[j] - b[j]));
    expect(worst).toBeLessThan(1e-6);
  });
  expect(model.recent).toEqual(want.recent);
  expect(model.recent!.movies.length).toBeGreaterThan(0);
}, 300_000);

test('the default model on large data: settings selected on a user sample, each clustering fitted centrally on a sample, every user labelled by its nearest centre in one pass', async () => {
  const body = await generatedCsv({ users: 400, movies: 600, ratings: 16_000, clusters: 5, seed: 9 });
  // the large-data path from 8,000 interactions on: selection on about half the users, K-means on 150
  const params: TrainOverrides = { algorithm: 'taste', randomState: 0, taste: { largeDataNnz: 8_000, kmeansUsers: 150 } };
  const ref = await upload('uploads/large.csv', body);
  const version = versionIdOf(ref);
  const input = executionInput(version, ref, sourceOrderOf(ref), params, { shards: 3, publish: 'none', check: false });
  await machine.starter.start(executionNameOf(version), JSON.stringify(input));
  expect((await machine.executions.settled(executionNameOf(version))).status).toBe('SUCCEEDED');
  const run = await loadRun(runs, version);
  const m = run.model!;
  expect(m.jobs.map((j) => [j.sampled, j.nInit, j.maxIter])).toEqual(Array.from({ length: m.params.taste.largeEnsemble }, () => [true, 1, m.params.taste.kmeansMaxIter]));
  expect(m.notes.join(' ')).toMatch(/settings selected on a seeded sample of 200 of 400 users/);
  expect(m.notes.join(' ')).toMatch(/fitted on a seeded sample of 150 users/);
  expect(m.selection!.users).toBe(200);
  // no seeding ran: the clustering is the fitted centres' one pass
  expect(run.results!.map((r) => [r.restart, r.pass])).toEqual(m.jobs.map(() => [0, 0]));

  // every user's label is its nearest fitted centre (unit rows, squared distance; ties to the lower index)
  const { x } = await gatherAll(runs, run);
  const unit = unitValues(x);
  const d = run.index!.d;
  const k = m.jobs[0].k;
  const kp = paddedK(k);
  const ct = new Float64Array(d * kp);
  for (let r = 0; r < RANGES; r++) ct.set((await getContainer(runs, runKeys.centres(version, 0, 0, 0, r))).f64('ct'), columnRange(r, d).j0 * kp);
  const cnorm = new Float64Array(k);
  for (let col = 0; col < d; col++) for (let c = 0; c < k; c++) cnorm[c] += ct[col * kp + c] ** 2;
  const labels: number[] = [];
  for (let q = 0; q < run.shards!.rows.length; q++) labels.push(...(await bestLabels(runs, run, 0, q)));
  let clearCut = 0;
  for (let i = 0; i < x.nRows; i++) {
    const dist = Array.from(cnorm, (cn) => cn + 1);
    for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) for (let c = 0; c < k; c++) dist[c] -= 2 * unit[p] * ct[x.indices[p] * kp + c];
    const order = dist.map((v, c) => [v, c]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (order[1][0] - order[0][0] < 1e-9) continue; // a tie within rounding: either is right
    clearCut++;
    expect([i, labels[i]]).toEqual([i, order[0][1]]);
  }
  expect(clearCut).toBeGreaterThan(x.nRows * 0.9);

  // the servable model: local matrices on every list, the selected settings, newest movies, every user mixed
  const { model } = await assembleModel(runs, version);
  expect(model.userIds).toHaveLength(400);
  expect(model.clusters.every((c) => c.local && c.local.b.length === c.local.movieIds.length ** 2)).toBe(true);
  expect(model.scoring).toEqual({ beta: m.params.taste.beta, halfLife: m.params.taste.halfLife });
  expect(model.mix!.ptr).toHaveLength(401);
  if (m.params.taste.halfLife > 0) expect(model.recent!.ptr).toHaveLength(401);
}, 300_000);

test('the default model published by the state machine serves what the single function’s model recommends', async () => {
  const body = await generatedCsv({ users: 300, movies: 500, ratings: 12_000, clusters: 4, seed: 12 });
  const params: TrainOverrides = { algorithm: 'taste', randomState: 0 };
  const ref = await upload('uploads/served.csv', body);
  const version = versionIdOf(ref);
  expect((await handleUpload(uploadDeps(params), ref)).status).toBe('training-started');
  await machine.executions.idle();
  expect((await machine.executions.settled(executionNameOf(version))).status).toBe('SUCCEEDED');
  expect((await store.activeVersion({ fresh: true }))?.version).toBe(version);
  const want = (await single(body, params)).model;
  expect(want.scoring).toBeDefined();
  const api = makeHandler({ store, idempotency: idempotencyLayer(emu.tables.idempotency, emu.dynamo), logger: silentLogger(), metrics: quietMetrics() });
  const call = async (...args: Parameters<typeof apiEvent>) => {
    const res = await api(apiEvent(...args), lambdaContext);
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  // every user's top 10 through the API (lists with their local matrices, the user's mix and newest movies read
  // from DynamoDB) is recommendFor's on the single function's model; and an unknown user gets the popular list
  for (const userId of [...want.userIds, 999_999]) {
    const w = recommendFor(want, userId, { n: 10 });
    const got = await call('GET', `/users/${userId}/recommendations`);
    expect(got.status).toBe(200);
    expect({ userId, source: got.json.source, ids: got.json.items.map((i: { movieId: number }) => i.movieId) }).toEqual({ userId, source: w.source, ids: w.items.map((i) => i.movieId) });
    got.json.items.forEach((it: { score: number }, j: number) => expect(it.score).toBeCloseTo(w.items[j].score, 5));
  }
  // similar movies come with the publish, as the single function's
  for (const movieId of want.clusters[0].movieIds.slice(0, 5)) {
    const got = await call('GET', `/movies/${movieId}/similar`, { query: { n: '5' } });
    expect(got.status).toBe(200);
    expect(got.json.items.map((i: { movieId: number }) => i.movieId)).toEqual(similarMovies(want, movieId, 5)!.map((i) => i.movieId));
  }
}, 300_000);

test('the definition runs offline as AWS would: no ignored feature, a timeout on every Task, payloads far below 256 KiB', () => {
  const def = machine.local.machine.definition;
  expect(machine.local.gaps).toEqual([]);
  const states = allStates(def);
  for (const { name, state } of states) if (state.Type === 'Task') expect([name, typeof state.TimeoutSeconds]).toEqual([name, 'number']);
  const maps = states.filter((s) => s.state.Type === 'Map');
  expect(maps.map((m) => m.name).sort()).toEqual(['Assign', 'BuildShards', 'CountClusters', 'ParseRanges', 'PlaceUsers', 'PublishUsers', 'TrySeeds', 'UpdateCentres']);
  for (const m of maps) expect(m.state.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  expect(machine.local.maxPayload()).toBeGreaterThan(0);
  expect(machine.local.maxPayload()).toBeLessThan(16 * 1024);
});
