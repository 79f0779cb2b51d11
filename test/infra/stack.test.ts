// Template assertions for every bullet of the CDK app, for both stages where they differ.
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MovierecStack } from '../../lib/stack';
import { ROUTES as HANDLER_ROUTES } from '../../tools/openapi/openapi';
import { STAGE_CONFIG, type Stage } from '../../lib/config';
import { publicBuckets, tablesWithoutPitr, unauthenticatedMethods, wildcardStatements } from './guards';
import { type Built, build, cleanup, resourcesOf, templateOf } from './helpers';

type Json = Record<string, any>;
const built: Partial<Record<Stage, Built>> = {};
const templates: Partial<Record<Stage, Template>> = {};

beforeAll(() => {
  for (const stage of ['dev', 'prod'] as const) {
    built[stage] = build(stage, { nag: false });
    templates[stage] = templateOf(built[stage]!);
  }
});
afterAll(cleanup);

const t = (stage: Stage) => templates[stage]!;
const ref = (t: Template, type: string, pred: (r: Json) => boolean): string => {
  const ids = Object.entries(resourcesOf(t, type)).filter(([, r]) => pred(r)).map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0];
};
const fnByName = (t: Template, name: string) => {
  const id = ref(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === name);
  return { id, props: resourcesOf(t, 'AWS::Lambda::Function')[id].Properties as Json };
};
const uploadsBucketId = (t: Template) =>
  ref(t, 'AWS::S3::Bucket', (r) => r.Properties.VersioningConfiguration?.Status === 'Enabled');
const statementsOfRole = (t: Template, roleId: string): Json[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
const actionsOf = (statements: Json[]) => statements.flatMap((s) => [s.Action].flat());

describe.each(['dev', 'prod'] as const)('%s stack', (stage) => {
  // ---------------------------------------------------------------- uploads bucket
  test('uploads bucket: public access blocked, SSE, versioned, access-logged, lifecycle', () => {
    const tpl = t(stage);
    const id = uploadsBucketId(tpl);
    const bucket = resourcesOf(tpl, 'AWS::S3::Bucket')[id].Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(JSON.stringify(bucket.BucketName)).toContain(`movierec-${stage}-`);
    // access logs go to the other bucket of the stack
    const logBucketId = Object.keys(resourcesOf(tpl, 'AWS::S3::Bucket')).find((k) => k !== id)!;
    expect(bucket.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logBucketId });
    const rules: Json[] = bucket.LifecycleConfiguration.Rules;
    const cfg = STAGE_CONFIG[stage].lifecycle;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: cfg.noncurrentVersionDays }, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'reports/', ExpirationInDays: cfg.reportsDays, Status: 'Enabled' }),
      ]),
    );
    // no rule ever expires uploads or models (reports and a distributed training's intermediate runs/ do expire)
    expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toEqual(['reports/', 'runs/']);
  });

  test('both buckets deny non-TLS requests', () => {
    const tpl = t(stage);
    const policies = Object.values(resourcesOf(tpl, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  test('notification: only ObjectCreated under uploads/, to the training function', () => {
    const tpl = t(stage);
    const train = fnByName(tpl, `movierec-${stage}-train`);
    const notif = Object.values(resourcesOf(tpl, 'Custom::S3BucketNotifications'));
    expect(notif).toHaveLength(1);
    const cfg = notif[0].Properties.NotificationConfiguration;
    expect(cfg.LambdaFunctionConfigurations).toEqual([
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
        LambdaFunctionArn: { 'Fn::GetAtt': [train.id, 'Arn'] },
      },
    ]);
    expect(cfg.QueueConfigurations).toBeUndefined();
    expect(cfg.TopicConfigurations).toBeUndefined();
  });

  // ---------------------------------------------------------------- tables
  test('two on-demand model tables with pk/sk strings and TTL expiresAt, and the idempotency table (id, TTL expiration)', () => {
    const tables = Object.values(resourcesOf(t(stage), 'AWS::DynamoDB::Table')).map((r) => r.Properties);
    expect(tables.map((p) => p.TableName).sort()).toEqual([
      `movierec-${stage}-clusters`,
      `movierec-${stage}-idempotency`,
      `movierec-${stage}-users`,
    ]);
    for (const p of tables) {
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.SSESpecification).toEqual({ SSEEnabled: true });
      if (p.TableName === `movierec-${stage}-idempotency`) {
        // Powertools' DynamoDBPersistenceLayer defaults
        expect(p.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
        expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
        continue;
      }
      expect(p.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(p.AttributeDefinitions).toEqual([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]);
      expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    }
  });

  // ---------------------------------------------------------------- functions
  test('both functions: Node.js 24 on arm64, X-Ray, own log group, Powertools env, stage env', () => {
    const tpl = t(stage);
    const logLevel = stage === 'prod' ? 'INFO' : 'DEBUG';
    for (const name of ['train', 'api']) {
      const { props } = fnByName(tpl, `movierec-${stage}-${name}`);
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
      expect(props.Environment.Variables).toEqual(
        expect.objectContaining({
          MOVIEREC_STAGE: stage,
          POWERTOOLS_SERVICE_NAME: `movierec-${name}`,
          POWERTOOLS_LOG_LEVEL: logLevel,
          POWERTOOLS_METRICS_NAMESPACE: `movierec-${stage}`,
          NODE_OPTIONS: '--enable-source-maps',
          USERS_TABLE: { Ref: expect.any(String) },
          CLUSTERS_TABLE: { Ref: expect.any(String) },
        }),
      );
    }
    const retention = stage === 'prod' ? 90 : 14;
    // train, api, API Gateway access logs; the training state machine's three functions and its own log group
    tpl.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: retention }, 3 + 4);
    tpl.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/movierec-${stage}-train` });
    tpl.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/movierec-${stage}-api` });
    tpl.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/apigateway/movierec-${stage}-api` });
  });

  test('training: no reserved concurrency, async retries, on-failure DLQ, K-means params in env', () => {
    const tpl = t(stage);
    const { id, props } = fnByName(tpl, `movierec-${stage}-train`);
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.Environment.Variables.BUCKET_NAME).toEqual({ Ref: uploadsBucketId(tpl) });
    const params = JSON.parse(props.Environment.Variables.TRAINING_PARAMS);
    expect(params).toEqual(STAGE_CONFIG[stage].training.params);
    expect(params.algorithm).toBe('taste');

    const dlqId = ref(tpl, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === `movierec-${stage}-train-dlq`);
    tpl.hasResourceProperties('AWS::SQS::Queue', { QueueName: `movierec-${stage}-train-dlq`, SqsManagedSseEnabled: true });
    tpl.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: STAGE_CONFIG[stage].training.retryAttempts,
      MaximumEventAgeInSeconds: STAGE_CONFIG[stage].training.maxEventAgeHours * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    tpl.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('training role: read uploads/*, write reports/* and models/*, exports/* only when the stage exports, write both tables, delete only its lease and exports', () => {
    const tpl = t(stage);
    const { props } = fnByName(tpl, `movierec-${stage}-train`);
    const bucket = uploadsBucketId(tpl);
    const statements = statementsOfRole(tpl, props.Role['Fn::GetAtt'][0]);
    const objectArn = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*`]] });
    const s3 = statements.filter((s) => actionsOf([s]).some((a: string) => a.startsWith('s3:')));
    const exportsStatement = expect.objectContaining({
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      Resource: objectArn('exports/'),
    });
    expect(s3).toEqual([
      expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objectArn('uploads/') }),
      expect.objectContaining({
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [objectArn('reports/'), objectArn('models/')],
      }),
      // the batch export: prod writes one after each publish, dev none (no permission either)
      ...(STAGE_CONFIG[stage].exports.topN > 0 ? [exportsStatement] : []),
    ]);
    expect(props.Environment.Variables.EXPORT_TOP_N).toBe(String(STAGE_CONFIG[stage].exports.topN));
    const ddb = statements.filter((s) => actionsOf([s]).some((a: string) => a.startsWith('dynamodb:')));
    expect(ddb).toHaveLength(2);
    expect(ddb[0].Resource).toHaveLength(2);
    expect(ddb[0].Action).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']));
    expect(actionsOf(statements)).not.toEqual(expect.arrayContaining(['dynamodb:Scan']));
    // the one DynamoDB delete: releasing the single-flight lease in the clusters table
    const clustersId = ref(tpl, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === `movierec-${stage}-clusters`);
    expect(statements.filter((s) => actionsOf([s]).some((a: string) => /^dynamodb:.*Delete/.test(a)))).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:DeleteItem',
        Resource: { 'Fn::GetAtt': [clustersId, 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['lease'] } },
      }),
    ]);
  });

  test('API role: reads on the model tables, writes only under listed partition keys, idempotency records in their own table — no S3, no Scan', () => {
    const tpl = t(stage);
    const { props } = fnByName(tpl, `movierec-${stage}-api`);
    const statements = statementsOfRole(tpl, props.Role['Fn::GetAtt'][0]);
    const actions = actionsOf(statements);
    expect(actions.filter((a: string) => a.startsWith('s3:'))).toEqual([]);
    expect([...new Set(actions.filter((a: string) => a.startsWith('dynamodb:')))].sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    );
    const tableArn = (name: string) => ({ 'Fn::GetAtt': [ref(tpl, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === `movierec-${stage}-${name}`), 'Arn'] });
    const writes = statements.filter((s) => actionsOf([s]).some((a: string) => /^dynamodb:.*(Put|Update|Delete|Write)/.test(a)));
    expect(writes).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: tableArn('users'),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['fav#*', 'v#*#u#*'] } },
      }),
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: tableArn('clusters'),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['v#*#d#*', 'v#*#manifest'] } },
      }),
      // Powertools' idempotency records: their own table, nothing else there
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: tableArn('idempotency'),
      }),
    ]);
    const idemId = ref(tpl, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === `movierec-${stage}-idempotency`);
    expect(props.Environment.Variables.IDEMPOTENCY_TABLE).toEqual({ Ref: idemId });
  });

  test('guards hold on the real stack: no public bucket, no wildcard IAM on our roles, no keyless method', () => {
    const tpl = t(stage);
    const roles = ['train', 'api'].map((n) => fnByName(tpl, `movierec-${stage}-${n}`).props.Role['Fn::GetAtt'][0]);
    expect(publicBuckets(tpl)).toEqual([]);
    expect(wildcardStatements(tpl, roles)).toEqual([]);
    expect(unauthenticatedMethods(tpl)).toEqual([]);
  });

  // ---------------------------------------------------------------- API
  test('API: exactly the seven routes, each with an API key and the Lambda proxy to the live alias', () => {
    const tpl = t(stage);
    const resources = resourcesOf(tpl, 'AWS::ApiGateway::Resource');
    const pathOf = (parent: Json): string => {
      if (parent['Fn::GetAtt']) return ''; // the API root
      const r = resources[parent.Ref].Properties;
      return `${pathOf(r.ParentId)}/${r.PathPart}`;
    };
    const methods = Object.values(resourcesOf(tpl, 'AWS::ApiGateway::Method')).map((m) => m.Properties);
    const routes = methods.map((m) => `${m.HttpMethod} ${pathOf(m.ResourceId)}`).sort();
    expect(routes).toEqual([
      'GET /health',
      'GET /models/active',
      'GET /movies/{movieId}/similar',
      'GET /openapi.json',
      'GET /users/{userId}/movies',
      'GET /users/{userId}/recommendations',
      'POST /users/{userId}/movies',
    ]);
    // and exactly the handler's own route table, so a route added there reaches API Gateway
    expect(routes).toEqual(HANDLER_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort());
    const aliasId = ref(tpl, 'AWS::Lambda::Alias', (r) => r.Properties.Name === 'live');
    for (const m of methods) {
      expect(m.ApiKeyRequired).toBe(true);
      expect(m.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(m.Integration.Uri)).toContain(aliasId);
    }
  });

  test('API: the POST body is validated against a strict model of one non-negative integer movieId', () => {
    const tpl = t(stage);
    const post = Object.values(resourcesOf(tpl, 'AWS::ApiGateway::Method')).find((m) => m.Properties.HttpMethod === 'POST')!;
    const validators = resourcesOf(tpl, 'AWS::ApiGateway::RequestValidator');
    expect(validators[post.Properties.RequestValidatorId.Ref].Properties).toEqual(
      expect.objectContaining({ ValidateRequestBody: true, ValidateRequestParameters: true }),
    );
    const modelId = post.Properties.RequestModels['application/json'].Ref;
    const schema = resourcesOf(tpl, 'AWS::ApiGateway::Model')[modelId].Properties.Schema;
    // the handler's FavouriteBody: z.object({ movieId: z.number().int().min(0).max(2^53-1) }).strict()
    expect(schema).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: 'AddFavouriteBody',
      type: 'object',
      properties: { movieId: { type: 'integer', minimum: 0, maximum: 9007199254740991 } },
      required: ['movieId'],
      additionalProperties: false,
    });
    expect(post.Properties.RequestParameters).toEqual({
      'method.request.path.userId': true,
      'method.request.header.idempotency-key': false,
    });
    const withParam = (name: string) =>
      Object.values(resourcesOf(tpl, 'AWS::ApiGateway::Method')).find((m) => m.Properties.RequestParameters?.[name] !== undefined)!;
    // the recommendation filters are optional query strings API Gateway knows (and the handler validates)
    expect(withParam('method.request.querystring.offset').Properties.RequestParameters).toEqual({
      'method.request.path.userId': true,
      'method.request.querystring.n': false,
      'method.request.querystring.offset': false,
      'method.request.querystring.genre': false,
      'method.request.querystring.excludeGenre': false,
      'method.request.querystring.exclude': false,
    });
    expect(withParam('method.request.path.movieId').Properties.RequestParameters).toEqual({
      'method.request.path.movieId': true,
      'method.request.querystring.n': false,
    });
  });

  test('API: stage with access logs, metrics, X-Ray, throttling; usage plan from the stage', () => {
    const tpl = t(stage);
    const th = STAGE_CONFIG[stage].api.throttle;
    tpl.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: `movierec-${stage}-api` });
    tpl.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: stage,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({ MetricsEnabled: true, DataTraceEnabled: false, ThrottlingRateLimit: th.rateLimit, ThrottlingBurstLimit: th.burstLimit }),
      ],
    });
    // no daily quota by default: a quota below rate × 86,400 would run out before the day ends
    tpl.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: `movierec-${stage}-usage-plan`,
      Throttle: { RateLimit: th.rateLimit, BurstLimit: th.burstLimit },
      Quota: Match.absent(),
    });
    tpl.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    tpl.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: `movierec-${stage}-key`, Enabled: true });
    // unknown routes answer 404 JSON instead of API Gateway's 403 "Missing Authentication Token"
    tpl.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"error":"not_found"') },
    });
  });

  // ---------------------------------------------------------------- alarms + outputs + naming
  test('alarms: training errors, DLQ depth, API 5xx, API p99 latency, throttles — all to the encrypted topic', () => {
    const tpl = t(stage);
    const topicId = ref(tpl, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === `movierec-${stage}-alarms`);
    tpl.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    tpl.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const alarms = Object.values(resourcesOf(tpl, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    expect(byMetric('Errors')).toHaveLength(1);
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toEqual([expect.objectContaining({ Threshold: 1 })]);
    expect(byMetric('5XXError')).toEqual([expect.objectContaining({ Threshold: STAGE_CONFIG[stage].alarms.api5xxPer5Min })]);
    expect(byMetric('Latency')).toEqual([
      expect.objectContaining({ ExtendedStatistic: 'p99', Threshold: STAGE_CONFIG[stage].alarms.apiP99LatencyMs }),
    ]);
    expect(byMetric('Throttles')).toHaveLength(1);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.AlarmName).toMatch(new RegExp(`^movierec-${stage}-`));
    }
  });

  test('outputs: API URL, bucket name and the command that prints the API key', () => {
    const outputs = t(stage).findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'BucketName', 'GetApiKeyCommand']));
    const cmd = JSON.stringify(outputs.GetApiKeyCommand.Value);
    expect(cmd).toContain('aws apigateway get-api-key --api-key ');
    expect(cmd).toContain('--include-value');
  });

  test('stage name in every resource name and on every tag list', () => {
    const tpl = t(stage).toJSON();
    const nameKeys = /^(BucketName|TableName|FunctionName|QueueName|TopicName|RoleName|LogGroupName|AlarmName|Name|UsagePlanName|AliasName)$/;
    let named = 0;
    for (const [id, r] of Object.entries<Json>(tpl.Resources)) {
      for (const [k, v] of Object.entries<unknown>(r.Properties ?? {})) {
        // custom resources carry references to our resources, not names of their own
        if (!nameKeys.test(k) || r.Type.startsWith('Custom::') || r.Type === 'AWS::Lambda::Alias' || r.Type === 'AWS::ApiGateway::Model') continue;
        const isReference = typeof v === 'object' && v !== null && ('Ref' in v || 'Fn::GetAtt' in v);
        if (isReference) continue; // a reference to another (named) resource
        named++;
        expect(`${id}.${k}=${JSON.stringify(v)}`).toContain(`movierec-${stage}`);
      }
      if (Array.isArray(r.Properties?.Tags)) {
        expect(r.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'Stage', Value: stage }]));
      }
    }
    expect(named).toBeGreaterThanOrEqual(15);
  });
});

// ------------------------------------------------------------------ where the stages differ
describe('dev vs prod', () => {
  test('both stages train within a new account’s 3,008 MB; prod gets the 15-minute timeout and room in /tmp', () => {
    const prod = fnByName(t('prod'), 'movierec-prod-train').props;
    expect(prod.MemorySize).toBe(3008);
    expect(prod.Timeout).toBe(900);
    expect(prod.EphemeralStorage.Size).toBeGreaterThanOrEqual(2048);
    const dev = fnByName(t('dev'), 'movierec-dev-train').props;
    expect(dev.MemorySize).toBe(3008);
    expect(dev.Timeout).toBeLessThan(900);
    expect(JSON.parse(prod.Environment.Variables.TRAINING_PARAMS)).toEqual(
      expect.objectContaining({ algorithm: 'taste', randomState: 0 }),
    );
    // dev trains cheaply (one restart per clustering); prod keeps the algorithm's defaults
    expect(JSON.parse(dev.Environment.Variables.TRAINING_PARAMS)).toMatchObject({ nInit: 1 });
    expect(JSON.parse(prod.Environment.Variables.TRAINING_PARAMS).nInit).toBeUndefined();
  });

  test('PITR and retention (except on create) in prod; destroyable tables and buckets in dev', () => {
    expect(tablesWithoutPitr(t('prod'))).toEqual([]);
    expect(tablesWithoutPitr(t('dev'))).toHaveLength(3);
    const policies = (stage: Stage, type: string) => Object.values(resourcesOf(t(stage), type)).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
    expect(policies('prod', 'AWS::DynamoDB::Table')).toEqual([['RetainExceptOnCreate', 'Retain'], ['RetainExceptOnCreate', 'Retain'], ['RetainExceptOnCreate', 'Retain']]);
    expect(policies('prod', 'AWS::S3::Bucket')).toEqual([['RetainExceptOnCreate', 'Retain'], ['RetainExceptOnCreate', 'Retain']]);
    expect(policies('dev', 'AWS::DynamoDB::Table')).toEqual([['Delete', 'Delete'], ['Delete', 'Delete'], ['Delete', 'Delete']]);
    expect(policies('dev', 'AWS::S3::Bucket')).toEqual([['Delete', 'Delete'], ['Delete', 'Delete']]);
    // deletion protection is opt-in (it would also stop the rollback of a failed first create)
    t('prod').resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false }, 3);
    t('prod').resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    t('dev').resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('no provisioned concurrency on the API alias by default, in either stage', () => {
    for (const stage of ['dev', 'prod'] as const) {
      t(stage).hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: Match.absent() });
    }
  });

  test('an alarm e-mail in the stage config subscribes to the topic; none by default', () => {
    t('dev').resourceCountIs('AWS::SNS::Subscription', 0);
    const app = new App({ outdir: built.dev!.outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const config = { ...STAGE_CONFIG.dev, alarms: { ...STAGE_CONFIG.dev.alarms, email: 'ops@example.com' } };
    const stack = new MovierecStack(app, 'movierec-dev', { config });
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('prod throttles are higher than dev, prod alarms are stricter', () => {
    const plan = (stage: Stage) => Object.values(resourcesOf(t(stage), 'AWS::ApiGateway::UsagePlan'))[0].Properties;
    expect(plan('prod').Throttle.RateLimit).toBeGreaterThan(plan('dev').Throttle.RateLimit);
    const latency = (stage: Stage) =>
      Object.values(resourcesOf(t(stage), 'AWS::CloudWatch::Alarm')).find((a) => a.Properties.MetricName === 'Latency')!.Properties.Threshold;
    expect(latency('prod')).toBeLessThan(latency('dev'));
  });
});
