// In-process DynamoDB (dynalite) and S3 (s3rver) emulators on loopback ports, for the local stack (`npm start`)
// and the integration tests (test/support/emulators.ts re-exports this module). Tables and the bucket are created from functions/shared/resources.ts, the same definition the
// CDK stack uses, so the local shape cannot drift from the deployed one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { Server } from 'node:http';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { bucketName, ENV, hasDotSegment, IDEMPOTENCY_KEYS, TABLE_KEYS, tableNames } from '../functions/shared/resources';
import { AwsConfig, makeDynamoClient, makeS3Client } from '../functions/adapters/aws';

// Loaded on first use: importing this module (e.g. for the constants) must not load the emulators.
/* eslint-disable @typescript-eslint/no-require-imports */
const dynalite = (opts: Record<string, unknown>) => (require('dynalite') as (o: Record<string, unknown>) => Server)(opts);
const newS3rver = (opts: Record<string, unknown>) =>
  new (require('s3rver') as new (o: Record<string, unknown>) => S3rverInstance)(opts);
/* eslint-enable @typescript-eslint/no-require-imports */

/** The subset of s3rver we use. `on('event')` fires S3-shaped ObjectCreated records (keys NOT URL-encoded). */
export interface S3rverInstance {
  run(): Promise<AddressInfo>;
  /** Koa's middleware list, composed when the server starts listening */
  middleware: Array<(ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void>;
  listen(...args: unknown[]): Server | Promise<Server>;
  close(): Promise<void>;
  on(event: 'event', cb: (event: { Records: unknown[] }) => void): void;
  removeAllListeners(event?: string): void;
}

/** The part of Koa's context the path guard uses. */
interface KoaContext {
  path: string;
  status: number;
  type: string;
  body: unknown;
}

/**
 * s3rver (3.7.1) maps `/<bucket>/<key>` to `<directory>/<bucket>/<key>…` with path.join, so a `..` segment —
 * plain, %2E-encoded, or as `..%2F` inside one segment — reads and writes outside its directory. Real S3 stores
 * such a key literally; a file store cannot, so the local S3 refuses any request whose decoded bucket or key has
 * a `.` or `..` segment (or does not decode) before s3rver sees it, with S3's own error shape.
 */
export async function s3PathGuard(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(ctx.path);
  } catch {
    return refuse(ctx, 'InvalidURI', 'Could not parse the specified URI (a malformed %-escape).');
  }
  if (hasDotSegment(decoded) || decoded.includes('\0')) {
    return refuse(ctx, 'InvalidArgument', 'The local S3 refuses keys and bucket names with "." or ".." segments: it stores objects as files and they would leave its directory.');
  }
  await next();
}

function refuse(ctx: KoaContext, code: string, message: string): void {
  ctx.status = 400;
  ctx.type = 'application/xml';
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><Resource>${esc(ctx.path)}</Resource></Error>`;
}

export interface Emulators {
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** the s3rver instance, to subscribe to its ObjectCreated events */
  s3rver: S3rverInstance;
  /** SDK settings for both endpoints (region, dummy credentials; s3rver quirks are in makeS3Client) */
  dynamoConfig: AwsConfig;
  s3Config: AwsConfig;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** keep data across restarts in this folder (dynalite LevelDB + s3rver files); default: a temp folder removed on stop */
  persistDir?: string;
  /** fixed ports (default: free ports chosen by the OS) */
  dynamoPort?: number;
  s3Port?: number;
}

export const EMULATOR_REGION = 'us-east-1';
export const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

// s3rver may still be writing an object's metadata file when it has answered the PUT and been closed; removing
// its folder then makes that write fail with an 'error' no one can listen to, which ends the process. Temporary
// folders are therefore removed when the process exits, not when the emulators stop.
const toRemove = new Set<string>();
function removeAtExit(dir: string): void {
  if (toRemove.size === 0) process.once('exit', () => toRemove.forEach((d) => rmSync(d, { recursive: true, force: true })));
  toRemove.add(dir);
}

export async function startEmulators(opts: EmulatorOptions = {}): Promise<Emulators> {
  const tempDir = opts.persistDir ? null : mkdtempSync(path.join(tmpdir(), 'movierec-emu-'));
  const root = opts.persistDir ?? tempDir!;
  const dyn = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.persistDir ? { path: path.join(root, 'dynamodb') } : {}),
  });
  const closeDyn = () => new Promise<void>((resolve) => dyn.close(() => resolve()));
  const dropTemp = () => tempDir && removeAtExit(tempDir);
  try {
    await new Promise<void>((resolve, reject) => {
      dyn.once('error', reject);
      dyn.listen(opts.dynamoPort ?? 0, '127.0.0.1', () => {
        dyn.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await closeDyn().catch(() => undefined);
    dropTemp();
    throw Object.assign(e as Error, { service: 'dynamodb', port: opts.dynamoPort ?? 0 });
  }
  const dynPort = (dyn.address() as AddressInfo).port;

  const s3rver = newS3rver({
    address: '127.0.0.1',
    port: opts.s3Port ?? 0,
    silent: true,
    directory: path.join(root, 's3'),
    vhostBuckets: false,
  });
  // first in line, before s3rver's router decodes the path (Koa composes the list when the server starts)
  s3rver.middleware.unshift(s3PathGuard);
  // s3rver's own listen() leaves a listen error (a busy port) unhandled, which would crash the process:
  // listen with a callback and turn the server's 'error' into a rejection instead.
  const rawListen = s3rver.listen.bind(s3rver);
  s3rver.listen = (...args: unknown[]) =>
    new Promise<Server>((resolve, reject) => {
      // with a callback, s3rver's listen returns the server synchronously
      const server = rawListen(...args, () => {
        server.off('error', reject);
        resolve(server);
      }) as Server;
      server.once('error', reject);
    });
  let s3Addr: AddressInfo;
  try {
    s3Addr = await s3rver.run();
  } catch (e) {
    // a busy S3 port must not leave dynalite listening behind it
    await closeDyn();
    dropTemp();
    throw Object.assign(e as Error, { service: 's3', port: opts.s3Port ?? 0 });
  }

  const dynamoEndpoint = `http://127.0.0.1:${dynPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Addr.port}`;
  let stopped = false;
  return {
    dynamoEndpoint,
    s3Endpoint,
    s3rver,
    dynamoConfig: { region: EMULATOR_REGION, endpoint: dynamoEndpoint, credentials: EMULATOR_CREDENTIALS },
    s3Config: { region: EMULATOR_REGION, endpoint: s3Endpoint, credentials: EMULATOR_CREDENTIALS },
    async stop() {
      if (stopped) return;
      stopped = true;
      s3rver.removeAllListeners('event');
      await s3rver.close().catch(() => undefined);
      await closeDyn();
      dropTemp();
    },
  };
}

/** Create the tables of a stage (on-demand), as the CDK stack declares them: users and clusters (string pk +
 * sk) and Powertools' idempotency table (string id). Idempotent. */
export async function createTables(client: DynamoDBClient, stage: string): Promise<ReturnType<typeof tableNames>> {
  const names = tableNames(stage);
  const tables: Array<{ name: string; keys: Array<{ name: string; type: 'HASH' | 'RANGE' }>; ttl: string }> = [
    ...[names.users, names.clusters].map((name) => ({
      name,
      keys: [
        { name: TABLE_KEYS.partitionKey, type: 'HASH' as const },
        { name: TABLE_KEYS.sortKey, type: 'RANGE' as const },
      ],
      ttl: TABLE_KEYS.ttl,
    })),
    { name: names.idempotency, keys: [{ name: IDEMPOTENCY_KEYS.partitionKey, type: 'HASH' }], ttl: IDEMPOTENCY_KEYS.ttl },
  ];
  for (const t of tables) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: t.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: t.keys.map((k) => ({ AttributeName: k.name, AttributeType: 'S' })),
          KeySchema: t.keys.map((k) => ({ AttributeName: k.name, KeyType: k.type })),
        }),
      );
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    // dynalite does not implement UpdateTimeToLive (items simply never expire locally); real DynamoDB does.
    await client
      .send(new UpdateTimeToLiveCommand({ TableName: t.name, TimeToLiveSpecification: { AttributeName: t.ttl, Enabled: true } }))
      .catch(() => undefined);
  }
  return names;
}

/** Create the stage's bucket (idempotent). Returns its name. */
export async function createBucket(client: S3Client, stage: string, account = 'local'): Promise<string> {
  const name = bucketName(stage, account);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (e) {
    const n = (e as { name?: string }).name;
    if (n !== 'BucketAlreadyOwnedByYou' && n !== 'BucketAlreadyExists') throw e;
  }
  return name;
}

/** Emulators + tables + bucket for one stage, with ready SDK clients (the local stack and the tests). */
export async function startStack(stage = 'test', opts: EmulatorOptions = {}) {
  const emu = await startEmulators(opts);
  const dynamo = makeDynamoClient(emu.dynamoConfig);
  const s3 = makeS3Client(emu.s3Config);
  let tables: ReturnType<typeof tableNames>;
  let bucket: string;
  try {
    tables = await createTables(dynamo, stage);
    bucket = await createBucket(s3, stage);
  } catch (e) {
    dynamo.destroy();
    s3.destroy();
    await emu.stop();
    throw e;
  }
  return {
    ...emu,
    dynamo,
    s3,
    tables,
    bucket,
    async stop() {
      dynamo.destroy();
      s3.destroy();
      await emu.stop();
    },
  };
}

/** The environment the CDK stack gives a training function, pointed at a started stack's emulators (with their
 * endpoints and credentials). */
export function functionEnv(stage: string, stack: { tables: { users: string; clusters: string }; bucket: string; dynamoEndpoint: string; s3Endpoint: string }): NodeJS.ProcessEnv {
  return {
    [ENV.stage]: stage,
    [ENV.usersTable]: stack.tables.users,
    [ENV.clustersTable]: stack.tables.clusters,
    [ENV.bucket]: stack.bucket,
    [ENV.dynamoEndpoint]: stack.dynamoEndpoint,
    [ENV.s3Endpoint]: stack.s3Endpoint,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  };
}
