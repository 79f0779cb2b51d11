// The local stack: the CDK stack's wiring, in one process, against emulators. The API server binds its port
// first (a busy port fails before anything else starts), then dynalite + s3rver start with data under
// `dataDir`, the tables and bucket are created from functions/shared/resources.ts, and the same handlers that
// run in Lambda are built with depsFromEnv() from the environment the stack would give them.
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { trainModel, type TrainOverrides, type TrainProgress } from '../functions/core/train';
import { InputError } from '../functions/core/types';
import { DynamoModelStore } from '../functions/adapters/dynamo/store';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient } from '../functions/adapters/aws';
import { keys } from '../functions/adapters/dynamo/layout';
import * as apiHandler from '../functions/handlers/api';
import * as trainHandler from '../functions/handlers/train';
import { observability } from '../functions/handlers/observability';
import { lambdaMemoryBudget, versionIdOf } from '../functions/app/upload';
import type { VersionMeta } from '../functions/ports';
import { ENV } from '../functions/shared/resources';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startStack } from './emulators';
import { createApiServer } from './http-adapter';
import { API_KEY_FILE, readSavedApiKey, readStackInfo, STACK_FILE, type StackInfo } from './stack-info';
import { type LocalDistributed, localDistributed, type LocalDistributedOptions } from './distributed-stack';
import { EventJournal } from './event-journal';
import { machineMemoryMb } from './memory';
import { type BridgeEvent, TrainingBridge } from './training-bridge';
import { childProcessRunner } from './training-runner';

export { readStackInfo, type StackInfo, uploadKeyFor } from './stack-info';

/** The durable event queue, under the data folder (local/event-journal.ts). */
export const QUEUE_DIR = 'queue';

export interface LocalStackOptions {
  /** emulator data, the API key and stack.json live here (default `.local`) */
  dataDir: string;
  /** wipe the emulators' data first (the saved API key stays) */
  fresh?: boolean;
  /** API port (0: a free one) */
  port: number;
  /** S3 port (0: a free one) */
  s3Port: number;
  stage?: string;
  /** the key requests must carry; default MOVIEREC_API_KEY, else the one saved in dataDir, else a new one */
  apiKey?: string;
  /** TRAINING_PARAMS given to the training handler (the stage config's, as the CDK stack sets them) */
  trainingParams?: TrainOverrides;
  /** top-N per user of the batch export after each publish (the stage's `exports.topN`; default 0: none) */
  exportTopN?: number;
  /** retries after a thrown training error (the stage's async-invoke retryAttempts; default 2) */
  retryAttempts?: number;
  /** memory (MB) of the training process, as the stage's training Lambda has (default 3,008); at most what
   * the machine has free at start. Sizes the input bound: a bigger file is refused naming what it needs. */
  trainingMemoryMb?: number;
  /** Lambda-style JSON logs and metrics of the handlers on stdout */
  verbose?: boolean;
  onBridgeEvent?: (e: BridgeEvent) => void;
  onTrainProgress?: (p: TrainProgress) => void;
  /** a handler threw (API 502) */
  onApiError?: (e: unknown) => void;
  /** train past one function: uploads go to the training state machine (local/distributed-stack.ts) */
  distributed?: LocalDistributedOptions;
}


export interface LocalStack extends StackInfo {
  apiPort: number;
  s3Port: number;
  apiKey: string;
  apiKeySource: 'option' | 'env' | 'saved' | 'generated';
  tables: { users: string; clusters: string; idempotency: string };
  dataDir: string;
  bridge: TrainingBridge;
  /** the memory the training process plans with (MB) */
  trainingMemoryMb: number;
  s3: S3Client;
  /** the training state machine, when started with `distributed` */
  distributed: LocalDistributed | null;
  /** the active model version, read fresh (null before the first publish) */
  activeVersion(): Promise<string | null>;
  versionMeta(version: string): Promise<VersionMeta | null>;
  /** PUT a file under uploads/ through the S3 endpoint (the event then triggers training) */
  upload(file: string, key: string): Promise<{ key: string; etag: string; version: string }>;
  /** a JSON report the training handler wrote (reports/…) or null */
  readReport(key: string): Promise<Record<string, unknown> | null>;
  stop(): Promise<void>;
}

export class PortInUseError extends InputError {}

function portError(e: unknown, what: string, port: number, flag: string): never {
  const code = (e as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    throw new PortInUseError('port_in_use', `Port ${port} (${what}) is already in use: stop the program using it or choose another port with ${flag}.`);
  }
  if (code === 'EACCES') throw new InputError('port_denied', `Port ${port} (${what}) needs privileges; choose a port above 1023 with ${flag}.`);
  throw e;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

function resolveApiKey(opts: LocalStackOptions): { key: string; source: LocalStack['apiKeySource'] } {
  if (opts.apiKey) return { key: opts.apiKey, source: 'option' };
  const fromEnv = process.env[ENV.apiKey];
  if (fromEnv) return { key: fromEnv, source: 'env' };
  const saved = readSavedApiKey(opts.dataDir);
  if (saved) return { key: saved, source: 'saved' };
  const file = path.join(opts.dataDir, API_KEY_FILE);
  const key = randomBytes(24).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return { key, source: 'generated' };
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const stage = opts.stage ?? 'dev';
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const running = readStackInfo(dataDir);
  if (running && running.pid !== process.pid && pidAlive(running.pid)) {
    throw new InputError(
      'stack_running',
      `Another local stack (pid ${running.pid}, ${running.apiUrl}) is using ${dataDir}; stop it first or pass --data-dir DIR.`,
    );
  }
  if (opts.fresh) {
    for (const sub of ['dynamodb', 's3', QUEUE_DIR, STACK_FILE]) rmSync(path.join(dataDir, sub), { recursive: true, force: true });
  }
  const { key: apiKey, source: apiKeySource } = resolveApiKey({ ...opts, dataDir });

  const api = createApiServer({ onError: opts.onApiError });
  let apiPort: number;
  try {
    apiPort = await api.listen(opts.port);
  } catch (e) {
    portError(e, 'the API', opts.port, '--port');
  }

  let emu: Awaited<ReturnType<typeof startStack>>;
  try {
    emu = await startStack(stage, { persistDir: dataDir, s3Port: opts.s3Port });
  } catch (e) {
    await api.close();
    if ((e as { service?: string }).service === 's3') portError(e, 'the local S3', opts.s3Port, '--s3-port');
    throw e;
  }
  const s3Port = Number(new URL(emu.s3Endpoint).port);

  // The environment the CDK stack gives the functions (lib/training.ts, lib/api.ts, lib/function.ts), plus the
  // emulator endpoints and credentials.
  const env: NodeJS.ProcessEnv = {
    [ENV.stage]: stage,
    [ENV.usersTable]: emu.tables.users,
    [ENV.clustersTable]: emu.tables.clusters,
    [ENV.idempotencyTable]: emu.tables.idempotency,
    [ENV.bucket]: emu.bucket,
    [ENV.trainingParams]: JSON.stringify(opts.trainingParams ?? {}),
    [ENV.exportTopN]: String(opts.exportTopN ?? 0),
    [ENV.dynamoEndpoint]: emu.dynamoEndpoint,
    [ENV.s3Endpoint]: emu.s3Endpoint,
    [ENV.apiKey]: apiKey,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  };
  // Powertools reads POWERTOOLS_* at construction: quiet unless verbose (locally the CLI prints its own lines).
  if (!opts.verbose) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const logLevel = opts.verbose ? 'INFO' : 'ERROR';
  // the handlers' own logger and metrics (names from the stage), at the local log level
  const quiet = (fn: 'train' | 'api') => {
    const o = observability(fn, env);
    o.logger.setLogLevel(logLevel);
    return o;
  };
  // Training runs in its own process per invocation, as the training Lambda runs apart from the API's: its
  // CPU never holds a request, and running out of memory ends that invocation only.
  const machineMb = machineMemoryMb();
  const trainingMemoryMb = Math.min(opts.trainingMemoryMb ?? 3008, machineMb);
  const runner = childProcessRunner({
    env,
    logLevel,
    label: dataDir,
    memory: { memoryMb: trainingMemoryMb, machineMb },
    onProgress: opts.onTrainProgress,
  });
  // past one function: the training state machine, offline (the route the S3-triggered function takes). Its
  // executor lives in this process, so with it the S3-triggered function runs here too (it only starts
  // executions, or trains in place what fits its memory)
  const distributed = opts.distributed ? await localDistributed(stage, env, path.join(dataDir, 'cache'), opts.distributed) : null;
  const handler = distributed
    ? trainHandler.makeHandler({
        ...trainHandler.depsFromEnv(env),
        ...quiet('train'),
        memory: lambdaMemoryBudget(trainingMemoryMb, stage),
        train: (source, params, o) => trainModel(source, params, { ...o, onProgress: opts.onTrainProgress }),
        distributed: distributed.route,
      })
    : runner.handler;
  // S3 → Lambda is at-least-once: the queue is journalled under the data folder and replayed on start
  const bridge = new TrainingBridge({
    handler,
    retryAttempts: opts.retryAttempts ?? 2,
    onEvent: opts.onBridgeEvent,
    journal: new EventJournal(path.join(dataDir, QUEUE_DIR)),
  });
  // Every training of this stack runs in a child process that dies with it, so a training lease found now was
  // left by an earlier run killed mid-training: it would hold the replayed upload until that dead invocation's
  // deadline (15 min). Nothing else trains against these tables: free it.
  await makeDocClient(emu.dynamo).send(new DeleteCommand({ TableName: emu.tables.clusters, Key: keys.lease() }));
  bridge.replay();
  const detach = bridge.attach(emu.s3rver);

  const apiDeps = apiHandler.depsFromEnv(env);
  api.setHandler(
    apiHandler.makeHandler({
      ...apiDeps,
      // One deliberate difference from Lambda: the catalogue is cached for 1 s, not 5 min, so titles from an
      // uploaded movies.csv show up at once (the store config is otherwise the one depsFromEnv builds).
      store: new DynamoModelStore({
        doc: makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env))),
        usersTable: emu.tables.users,
        clustersTable: emu.tables.clusters,
        moviesTtlMs: 1000,
      }),
      ...quiet('api'),
    }),
  );

  // a reader of our own for "is the model live", never cached
  const store = new DynamoModelStore({
    doc: makeDocClient(emu.dynamo),
    usersTable: emu.tables.users,
    clustersTable: emu.tables.clusters,
    pointerTtlMs: 0,
  });

  const info: StackInfo = {
    pid: process.pid,
    apiUrl: `http://localhost:${apiPort}`,
    s3Endpoint: `http://localhost:${s3Port}`,
    dynamoEndpoint: emu.dynamoEndpoint,
    bucket: emu.bucket,
    stage,
  };
  writeFileSync(path.join(dataDir, STACK_FILE), JSON.stringify(info, null, 2) + '\n');

  let stopped = false;
  return {
    ...info,
    apiPort,
    s3Port,
    apiKey,
    apiKeySource,
    tables: emu.tables,
    dataDir,
    bridge,
    trainingMemoryMb,
    s3: emu.s3,
    distributed,
    activeVersion: async () => (await store.activeVersion({ fresh: true }))?.version ?? null,
    versionMeta: (v) => store.versionMeta(v),
    async upload(file, key) {
      const size = statSync(file).size;
      const res = await emu.s3.send(
        new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: createReadStream(file), ContentLength: size }),
      );
      const etag = (res.ETag ?? '').replace(/"/g, '');
      return { key, etag, version: versionIdOf({ bucket: emu.bucket, key, etag }) };
    },
    async readReport(key) {
      try {
        const res = await emu.s3.send(new GetObjectCommand({ Bucket: emu.bucket, Key: key }));
        return JSON.parse(await res.Body!.transformToString()) as Record<string, unknown>;
      } catch {
        return null;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      detach();
      bridge.stop();
      runner.stop();
      await api.close();
      await emu.stop();
      const current = readStackInfo(dataDir);
      if (current?.pid === process.pid) rmSync(path.join(dataDir, STACK_FILE), { force: true });
    },
  };
}
