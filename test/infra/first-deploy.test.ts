// The first `cdk deploy` on a fresh account: quota-safe defaults and the opt-ins, a clean rollback
// of a failed first create, alarms that can reach a person, physical names that never collide, the API's
// least privilege by partition key, CORS and per-consumer API keys by context. (One file: each infra test file
// pays for loading aws-cdk-lib again.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { keys } from '../../functions/adapters/dynamo/layout';
import { API_WRITE_KEYS } from '../../lib/api';
import { QUOTA_SAFE_MEMORY_MB, STAGE_CONFIG, type Stage } from '../../lib/config';
import { HANDLER_METRICS, SERVICE, metricsNamespace } from '../../lib/metrics';
import { MIN_BOOTSTRAP_VERSION, bootstrapVersionParameter, bucketNames, functionRoleName } from '../../lib/names';
import { MovierecStack, stackName } from '../../lib/stack';
import { allows, stringLike, unrestrictedTableWrites } from './guards';
import { type Built, build, cleanup, resourcesOf, templateOf } from './helpers';

const namesOutdir = fs.mkdtempSync(path.join(os.tmpdir(), 'movierec-names-'));
afterAll(() => {
  cleanup();
  fs.rmSync(namesOutdir, { recursive: true, force: true });
});

type Json = Record<string, any>;
const cache = new Map<string, { built: Built; tpl: Template }>();
/** The stage's template with `-c` context (cached per context). */
function synth(stage: Stage, context: Record<string, string> = {}) {
  const key = JSON.stringify([stage, context]);
  if (!cache.has(key)) {
    const built = build(stage, { nag: false, context });
    cache.set(key, { built, tpl: templateOf(built) });
  }
  return cache.get(key)!;
}
const functions = (tpl: Template) => Object.values(resourcesOf(tpl, 'AWS::Lambda::Function')).map((r) => r.Properties as Json);
const fn = (tpl: Template, name: string) => functions(tpl).find((p) => p.FunctionName === name)!;
const warnings = (built: Built) =>
  built.app.synth({ force: true }).getStackByName(built.stack.stackName).messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data));

describe.each(['dev', 'prod'] as const)('%s with default quotas (concurrency 10, 3,008 MB)', (stage) => {
  test('no function reserves concurrency (a new account cannot reserve any)', () => {
    const all = functions(synth(stage).tpl);
    expect(all.length).toBeGreaterThanOrEqual(3); // ours and CDK's custom-resource handlers
    for (const p of all) expect(p.ReservedConcurrentExecutions).toBeUndefined();
  });

  test('no provisioned concurrency and no function over 3,008 MB', () => {
    const { tpl, built } = synth(stage);
    for (const p of functions(tpl)) expect(p.MemorySize ?? 128).toBeLessThanOrEqual(QUOTA_SAFE_MEMORY_MB);
    for (const a of Object.values(resourcesOf(tpl, 'AWS::Lambda::Alias'))) expect(a.Properties.ProvisionedConcurrencyConfig).toBeUndefined();
    expect(warnings(built)).toEqual([]);
  });
});

test('-c trainingMemory=10240 -c apiProvisioned=2 opt in, each with a synth warning naming the quota and the doctor', () => {
  const { tpl, built } = synth('prod', { trainingMemory: '10240', apiProvisioned: '2' });
  expect(fn(tpl, 'movierec-prod-train').MemorySize).toBe(10240);
  tpl.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
  expect(warnings(built)).toEqual([
    expect.stringMatching(/^Training memory 10240 MB is above the 3008 MB that new accounts allow; run `npx movierec doctor --stage prod`/),
    expect.stringMatching(/^API provisioned concurrency 2 needs an account concurrency quota of at least 102; run `npx movierec doctor --stage prod`/),
  ]);
  // the opt-in belongs to the stage it names
  const dev = synth('dev', { 'prod:trainingMemory': '10240' }).tpl;
  expect(fn(dev, 'movierec-dev-train').MemorySize).toBe(QUOTA_SAFE_MEMORY_MB);
});

describe('a failed first create rolls back cleanly', () => {
  const STATEFUL = ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::SQS::Queue', 'AWS::KMS::Key'];

  test('prod: every bucket, table, log group, queue and key is RetainExceptOnCreate (Retain on replacement)', () => {
    const { tpl } = synth('prod');
    let n = 0;
    for (const type of STATEFUL) {
      for (const [id, r] of Object.entries(resourcesOf(tpl, type))) {
        expect(`${id} ${r.DeletionPolicy} ${r.UpdateReplacePolicy}`).toBe(`${id} RetainExceptOnCreate Retain`);
        n++;
      }
    }
    // buckets (uploads, access logs), tables (users, clusters, idempotency), log groups (train, api, API access;
    // the training state machine's three functions and its own), DLQ, key
    expect(n).toBe(2 + 3 + 3 + 4 + 1 + 1);
    // no "Retain" anywhere: it would survive the rollback of a failed create and block the next deploy
    const retained = Object.entries(tpl.toJSON().Resources as Record<string, Json>).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(retained.map(([id]) => id)).toEqual([]);
  });

  test('prod: tables are not deletion-protected unless opted in after the first deploy', () => {
    synth('prod').tpl.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false }, 3);
    synth('prod', { 'prod:tableDeletionProtection': 'true' }).tpl.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true }, 3);
  });

  test('dev: everything is deleted with the stack', () => {
    const { tpl } = synth('dev');
    for (const type of STATEFUL) {
      for (const r of Object.values(resourcesOf(tpl, type))) expect(r.DeletionPolicy).toBe('Delete');
    }
  });
});

describe.each(['dev', 'prod'] as const)('%s alerts that arrive', (stage) => {
  test('the topic policy lets CloudWatch alarms of this stack publish, next to the SSL-only Deny', () => {
    const { tpl } = synth(stage);
    const [policy] = Object.values(resourcesOf(tpl, 'AWS::SNS::TopicPolicy'));
    const statements: Json[] = policy.Properties.PolicyDocument.Statement;
    const alarmArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:movierec-${stage}-*`]] };
    expect(statements).toEqual([
      expect.objectContaining({ Effect: 'Deny', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': alarmArn } },
      }),
    ]);
    // the KMS key of the encrypted topic is usable by the same alarms only
    const [key] = Object.values(resourcesOf(tpl, 'AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': alarmArn } },
        }),
      ]),
    );
    // and every alarm's name falls under that pattern, with the topic as its action
    for (const a of Object.values(resourcesOf(tpl, 'AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmName).toMatch(new RegExp(`^movierec-${stage}-`));
      expect(a.Properties.AlarmActions).toHaveLength(1);
    }
  });

  test('-c alarmEmail subscribes an address; none without it', () => {
    synth(stage).tpl.resourceCountIs('AWS::SNS::Subscription', 0);
    synth(stage, { alarmEmail: 'ops@example.com' }).tpl.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('refused uploads raise an alarm on the metric the training function emits (namespace, name, dimensions)', () => {
    const { tpl } = synth(stage);
    const alarms = Object.values(resourcesOf(tpl, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const rejected = alarms.filter((a) => a.MetricName === HANDLER_METRICS.uploadsRejected);
    expect(rejected).toEqual([
      expect.objectContaining({
        AlarmName: `movierec-${stage}-UploadsRejected`,
        Namespace: metricsNamespace(stage),
        Dimensions: [{ Name: 'service', Value: SERVICE.train }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    ]);
    // the function is told exactly that namespace and service (Powertools' env variables)
    const env = fn(tpl, `movierec-${stage}-train`).Environment.Variables;
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(rejected[0].Namespace);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(rejected[0].Dimensions[0].Value);
    // dev and prod never share a namespace
    expect(metricsNamespace('dev')).not.toBe(metricsNamespace('prod'));
  });

  test('a dashboard with requests, p99, 5xx/4xx, training duration and outcome, model age and the alarms', () => {
    const { tpl } = synth(stage);
    const [dash] = Object.values(resourcesOf(tpl, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const title of ['API requests', 'API latency p99 (ms)', 'API errors', 'Training duration (s)', 'Training outcome', 'Active model age (s)', 'Alarms']) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    for (const metric of ['Count', 'Latency', '5XXError', '4XXError', 'Duration', 'Invocations', 'Errors', HANDLER_METRICS.uploadsRejected, HANDLER_METRICS.publishSeconds, HANDLER_METRICS.modelAgeSeconds]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain(`p99`);
  });
});

describe('API usable by a real client', () => {
  const methodsOf = (tpl: Template) => Object.values(resourcesOf(tpl, 'AWS::ApiGateway::Method')).map((m) => m.Properties);

  test('no CORS unless configured: no OPTIONS method, no origins given to the function', () => {
    const { tpl } = synth('prod');
    expect(methodsOf(tpl).filter((m) => m.HttpMethod === 'OPTIONS')).toEqual([]);
    expect(fn(tpl, 'movierec-prod-api').Environment.Variables.MOVIEREC_CORS_ORIGINS).toBe('');
  });

  test('-c corsOrigins: a keyless preflight on every resource, the origins for the function, CORS on API Gateway’s own errors', () => {
    const { tpl } = synth('prod', { corsOrigins: 'https://app.example.com' });
    const resources = Object.keys(resourcesOf(tpl, 'AWS::ApiGateway::Resource')).length + 1; // + the root
    const options = methodsOf(tpl).filter((m) => m.HttpMethod === 'OPTIONS');
    expect(options).toHaveLength(resources);
    for (const m of options) {
      expect(m.ApiKeyRequired).toBe(false); // a browser's preflight carries no key
      const headers = m.Integration.IntegrationResponses[0].ResponseParameters;
      expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe("'https://app.example.com'");
      expect(headers['method.response.header.Access-Control-Allow-Headers']).toBe("'Content-Type,X-Api-Key,Idempotency-Key'");
    }
    // every other method still needs the key
    for (const m of methodsOf(tpl).filter((x) => x.HttpMethod !== 'OPTIONS')) expect(m.ApiKeyRequired).toBe(true);
    expect(fn(tpl, 'movierec-prod-api').Environment.Variables.MOVIEREC_CORS_ORIGINS).toBe('https://app.example.com');
    tpl.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INVALID_API_KEY',
      ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'" },
    });
  });

  test('several origins: the preflight answers each listed origin (and only those)', () => {
    const { tpl } = synth('dev', { corsOrigins: 'https://a.example.com,https://b.example.com' });
    const options = methodsOf(tpl).filter((m) => m.HttpMethod === 'OPTIONS');
    const template = options[0].Integration.IntegrationResponses[0].ResponseTemplates['application/json'];
    expect(template).toContain('$origin == "https://b.example.com"');
    expect(fn(tpl, 'movierec-dev-api').Environment.Variables.MOVIEREC_CORS_ORIGINS).toBe('https://a.example.com,https://b.example.com');
  });

  test('one key per consumer in the usage plan, each with its own output; the default keeps the historical key', () => {
    const dflt = synth('prod').tpl;
    const keysOf = (tpl: Template) => Object.entries(resourcesOf(tpl, 'AWS::ApiGateway::ApiKey')).map(([id, k]) => [id, k.Properties.Name]);
    expect(keysOf(dflt)).toEqual([[expect.stringMatching(/^ApiRestApiKey[0-9A-F]{8}$/), 'movierec-prod-key']]);
    expect(Object.keys(dflt.findOutputs('*'))).toEqual(expect.arrayContaining(['ApiKeyId', 'GetApiKeyCommand']));

    const tpl = synth('prod', { apiKeys: 'web,batch,web:2' }).tpl;
    expect(keysOf(tpl).map(([, name]) => name)).toEqual(['movierec-prod-key-web', 'movierec-prod-key-batch', 'movierec-prod-key-web-v2']);
    tpl.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 3);
    expect(Object.keys(tpl.findOutputs('*'))).toEqual(expect.arrayContaining(['ApiKeyIdWeb', 'ApiKeyIdBatch', 'ApiKeyIdWebV2']));
    // rotation keeps generation 1 untouched: the same logical id as when it was alone
    const webAlone = keysOf(synth('prod', { apiKeys: 'web' }).tpl)[0];
    expect(keysOf(tpl)[0]).toEqual(webAlone);
  });

  test('the usage plan has no daily quota by default; -c apiQuotaPerDay sets one per key', () => {
    synth('prod').tpl.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Quota: Match.absent() });
    synth('prod', { apiQuotaPerDay: '9000000' }).tpl.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Quota: { Limit: 9_000_000, Period: 'DAY' } });
  });
});

// ------------------------------------------------------------------ physical names

const ACCOUNT = '111122223333';

function regionalTemplate(stage: Stage, region: string): Template {
  const app = new App({ outdir: fs.mkdtempSync(path.join(namesOutdir, 'a-')), context: { 'aws:cdk:bundling-stacks': [] } });
  const config = STAGE_CONFIG[stage];
  return Template.fromStack(new MovierecStack(app, stackName(config), { config, env: { account: ACCOUNT, region } }));
}

/** Properties that name a resource physically, by resource type (the name-bearing ones this stack uses). */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::ApiGateway::RestApi': 'Name',
  'AWS::ApiGateway::ApiKey': 'Name',
  'AWS::ApiGateway::UsagePlan': 'UsagePlanName',
};
/** Names that must be unique across regions of one account (or globally). */
const ACCOUNT_WIDE = new Set(['AWS::S3::Bucket', 'AWS::IAM::Role', 'AWS::CloudWatch::Dashboard']);

function physicalNames(tpl: Template, types?: Set<string>): string[] {
  const out: string[] = [];
  for (const r of Object.values(tpl.toJSON().Resources as Record<string, Json>)) {
    const prop = NAME_PROPERTIES[r.Type];
    if (!prop || (types && !types.has(r.Type))) continue;
    const v = r.Properties?.[prop];
    if (v === undefined) continue; // generated by CloudFormation: unique by construction
    if (typeof v !== 'string') throw new Error(`${r.Type} ${prop} is not a literal with account and region known: ${JSON.stringify(v)}`);
    out.push(`${r.Type} ${v}`);
  }
  return out;
}

describe('physical names (item 5)', () => {
  const devEu = regionalTemplate('dev', 'eu-west-1');
  const prodEu = regionalTemplate('prod', 'eu-west-1');
  const prodUs = regionalTemplate('prod', 'us-east-1');

  test('dev and prod in one account and region share no physical name', () => {
    const dev = physicalNames(devEu);
    const prod = physicalNames(prodEu);
    expect(dev.length).toBeGreaterThanOrEqual(20);
    expect(dev.filter((n) => prod.includes(n))).toEqual([]);
  });

  test('one stage in two regions of one account shares no bucket, IAM role or dashboard name', () => {
    const eu = physicalNames(prodEu, ACCOUNT_WIDE);
    const us = physicalNames(prodUs, ACCOUNT_WIDE);
    expect(eu).toHaveLength(2 + 5 + 1); // buckets, our five roles (train, api, the state machine's three functions), the dashboard
    expect(eu.filter((n) => us.includes(n))).toEqual([]);
    // and the names carry the region (and the bucket the account too)
    expect(eu).toEqual(
      expect.arrayContaining([
        `AWS::S3::Bucket ${bucketNames('prod', ACCOUNT, 'eu-west-1').uploads}`,
        'AWS::S3::Bucket movierec-prod-111122223333-eu-west-1-access-logs',
        `AWS::IAM::Role ${functionRoleName('prod', 'train', 'eu-west-1')}`,
        'AWS::IAM::Role movierec-prod-api-eu-west-1',
        'AWS::IAM::Role movierec-prod-train-worker-eu-west-1',
        'AWS::IAM::Role movierec-prod-train-central-eu-west-1',
        'AWS::IAM::Role movierec-prod-train-publish-eu-west-1',
        'AWS::CloudWatch::Dashboard movierec-prod-eu-west-1',
      ]),
    );
  });

  test('names fit AWS limits for the longest region names', () => {
    for (const region of ['ap-southeast-2', 'ap-northeast-3', 'us-gov-west-1', 'eu-central-2']) {
      const b = bucketNames('prod', ACCOUNT, region);
      expect(b.accessLogs.length).toBeLessThanOrEqual(63);
      expect(b.accessLogs).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
      expect(functionRoleName('prod', 'train', region).length).toBeLessThanOrEqual(64);
    }
  });

  test(`the templates require CDK bootstrap version ${MIN_BOOTSTRAP_VERSION}, read from ${bootstrapVersionParameter()}`, () => {
    const tpl = prodEu.toJSON();
    expect(tpl.Parameters.BootstrapVersion.Default).toBe(bootstrapVersionParameter());
    const older = tpl.Rules.CheckBootstrapVersion.Assertions[0].Assert['Fn::Not'][0]['Fn::Contains'][0];
    expect(older).toEqual(Array.from({ length: MIN_BOOTSTRAP_VERSION - 1 }, (_, i) => String(i + 1)));
  });
});

// ------------------------------------------------------------------ API least privilege
// The synthesized policy is evaluated against keys built with the table layout itself
// (functions/adapters/dynamo/layout.ts); a drift test proves the guard catches a write grant without the key condition.

const V = '3f2a9c1d0b7e4a55';
/** Items the API writes in normal operation: [table, partition key, what]. */
const API_WRITES: Array<['users' | 'clusters', string, string]> = [
  ['users', keys.fav(42, 318).pk, 'favourite record'],
  ['users', keys.userPk(V, 42), 'user item (new user, ADD f)'],
  ['clusters', keys.deltaPk(V, 7), 'cluster counter'],
  ['clusters', keys.deltaPk(V, 'pop'), 'popular counter'],
  ['clusters', keys.manifestPk(V), 'manifest (new#<user>)'],
];
/** Items only training may write. */
const TRAINING_ONLY: Array<['users' | 'clusters', string, string]> = [
  ['clusters', keys.pointer().pk, 'active model pointer'],
  ['clusters', keys.meta(V).pk, 'version metadata'],
  ['clusters', keys.clusterPk(V, 7), 'cluster list page'],
  ['clusters', keys.popularPk(V), 'popular list page'],
  ['clusters', keys.moviesPointer().pk, 'movie catalogue pointer'],
  ['clusters', keys.moviesPk('abc'), 'movie catalogue page'],
  ['clusters', 'lease', 'training lease (pk lease, sk training)'],
  ['users', keys.pointer().pk, 'a model item in the wrong table'],
];

function accessOf(stage: string, mutate?: (s: MovierecStack) => void) {
  const built = build(stage, { nag: false });
  mutate?.(built.stack);
  const s = built.stack;
  const tpl = templateOf(built);
  const id = (c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as never);
  return {
    tpl,
    role: id(s.api.function.role),
    trainRole: id(s.training.function.role),
    table: { users: id(s.tables.users), clusters: id(s.tables.clusters), idempotency: id(s.tables.idempotency) },
  };
}

describe.each(['dev', 'prod'])('%s API least privilege by partition key (item 6)', (stage) => {
  const ctx = accessOf(stage);

  test.each(API_WRITES)('API may Put/Update in %s: %s (%s)', (table, pk) => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem']) {
      expect(allows(ctx.tpl, ctx.role, action, ctx.table[table], pk)).toBe(true);
    }
  });

  test.each(TRAINING_ONLY)('API may NOT Put/Update/Delete in %s: %s (%s), but may read it', (table, pk) => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect(allows(ctx.tpl, ctx.role, action, ctx.table[table], pk)).toBe(false);
    }
    expect(allows(ctx.tpl, ctx.role, 'dynamodb:GetItem', ctx.table[table], pk)).toBe(true);
    // and training still may (it publishes them)
    expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:PutItem', ctx.table[table], pk)).toBe(true);
  });

  test('API deletes nothing in the model tables; its idempotency records live in a table of their own', () => {
    expect(allows(ctx.tpl, ctx.role, 'dynamodb:DeleteItem', ctx.table.idempotency, 'addFavourite#5d41402abc4b2a76b9719d911017c592')).toBe(true);
    for (const [table, pk] of [...API_WRITES, ...TRAINING_ONLY]) {
      expect(allows(ctx.tpl, ctx.role, 'dynamodb:DeleteItem', ctx.table[table], pk)).toBe(false);
    }
    // and training has no business there
    expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:PutItem', ctx.table.idempotency, 'x')).toBe(false);
  });

  test('no write grant of the API role on a model table lacks a partition-key condition', () => {
    expect(unrestrictedTableWrites(ctx.tpl, ctx.role, [ctx.table.users, ctx.table.clusters])).toEqual([]);
  });
});

test('training may release its lease but delete nothing else (single-flight without reserved concurrency)', () => {
  const ctx = accessOf('prod');
  expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:DeleteItem', ctx.table.clusters, 'lease')).toBe(true);
  expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:PutItem', ctx.table.clusters, 'lease')).toBe(true);
  expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:UpdateItem', ctx.table.clusters, 'lease')).toBe(true);
  for (const pk of [keys.pointer().pk, keys.clusterPk(V, 1), 'leased']) {
    expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:DeleteItem', ctx.table.clusters, pk)).toBe(false);
  }
  expect(allows(ctx.tpl, ctx.trainRole, 'dynamodb:DeleteItem', ctx.table.users, 'lease')).toBe(false);
});

test('API: the key patterns are derived from the layout, and no pattern of one table matches a training-only key', () => {
  expect(API_WRITE_KEYS).toEqual({ users: ['fav#*', 'v#*#u#*'], clusters: ['v#*#d#*', 'v#*#manifest'] });
  for (const [table, pk] of TRAINING_ONLY) {
    expect(API_WRITE_KEYS[table].filter((p) => stringLike(p, pk))).toEqual([]);
  }
});

test('API drift: a table-wide write grant added to the API role is caught, and then the pointer is writable', () => {
  const ctx = accessOf('prod', (s) => s.tables.clusters.grantWriteData(s.api.function.role));
  expect(unrestrictedTableWrites(ctx.tpl, ctx.role, [ctx.table.users, ctx.table.clusters])).toEqual([expect.stringMatching(/dynamodb:PutItem.* on any partition key/)]);
  expect(allows(ctx.tpl, ctx.role, 'dynamodb:PutItem', ctx.table.clusters, keys.pointer().pk)).toBe(true);
});
