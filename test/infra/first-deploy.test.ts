// Issue 14 — the first `cdk deploy` on a fresh account: quota-safe defaults and the opt-ins, a clean rollback
// of a failed first create, alarms that can reach a person, CORS and per-consumer API keys by context.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { QUOTA_SAFE_MEMORY_MB, type Stage } from '../../lib/config';
import { HANDLER_METRICS, SERVICE, metricsNamespace } from '../../lib/metrics';
import { type Built, build, cleanup, resourcesOf, templateOf } from './helpers';

afterAll(cleanup);

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
    expect(n).toBe(2 + 2 + 3 + 1 + 1);
    // no "Retain" anywhere: it would survive the rollback of a failed create and block the next deploy
    const retained = Object.entries(tpl.toJSON().Resources as Record<string, Json>).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(retained.map(([id]) => id)).toEqual([]);
  });

  test('prod: tables are not deletion-protected unless opted in after the first deploy', () => {
    synth('prod').tpl.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false }, 2);
    synth('prod', { 'prod:tableDeletionProtection': 'true' }).tpl.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true }, 2);
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
