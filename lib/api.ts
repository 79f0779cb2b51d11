// The recommendation API: a REST API whose every method needs an API key (one per consumer, all in the
// stage's usage plan), proxies to one Lambda through its `live` alias (provisioned concurrency only by
// opt-in), validates what API Gateway can validate, answers its own errors as JSON `{error, message}`, and
// answers CORS preflights for the configured browser origins.
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as z from 'zod';
import { GATEWAY_RESPONSES } from '../functions/api/errors';
import { ROUTES, type RouteDef } from '../functions/api/routes';
import { keys } from '../functions/adapters/dynamo/layout';
import { ENV } from '../functions/shared/resources';
import { type ApiKeySpec, type StageConfig, resourceName } from './config';
import { MovierecFunction } from './function';
import { logRetention, removalPolicy } from './removal';
import { Tables } from './storage';
import { tableStatement } from './training';

export const API_ENTRY = 'functions/handlers/api.ts';

/** Environment variable of the API function with the allowed CORS origins, comma-separated ('' = no CORS):
 * the handler echoes a request's Origin in Access-Control-Allow-Origin when it is listed (API Gateway only
 * answers the preflight; with the Lambda proxy integration the function's own responses carry the header). */
export const CORS_ORIGINS_ENV = ENV.corsOrigins;

/** DynamoDB reads of the API function, on both tables: point reads/queries (BatchGetItem: a taste user's
 * cluster counters in one request). No Scan. */
export const API_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
/** DynamoDB writes of the API function, each allowed only on the partition keys of API_WRITE_KEYS. */
export const API_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

// Key patterns derived from the table layout (functions/adapters/dynamo/layout.ts) by calling its key
// functions with sentinels and turning each sentinel into the IAM wildcard: the policy follows the layout.
const ANY = '\u0000';
const ANY_ID = 4_503_599_627_370_497; // 2^52 + 1: never a real user, cluster or shard number
const likePattern = (key: string): string => key.split(ANY).join('*').split(String(ANY_ID)).join('*');

/** Partition keys the API function may write (dynamodb:LeadingKeys, StringLike), per table. Never the model
 * pointer or version metadata (`model`), a version's list pages (`v#…#c#…`, `v#…#pop`), the movie catalogue
 * (`movies…`) or the training lease. */
export const API_WRITE_KEYS = {
  users: [
    likePattern(keys.favPk(ANY_ID)), // fav#<shard>: durable favourite records
    likePattern(keys.userPk(ANY, ANY_ID)), // v#<ver>#u#<user>: a new user, a favourite claimed in a version (ADD f)
  ],
  clusters: [
    likePattern(keys.deltaPk(ANY, ANY_ID)), // v#<ver>#d#<cluster|pop>: favourite counters (ADD)
    likePattern(keys.manifestPk(ANY)), // v#<ver>#manifest: users the API created in a version (new#<user>)
  ],
};

/** Powertools' idempotency persistence layer, on its own table: claim (conditional put), read, complete,
 * release on failure. */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/** Request headers a browser client sends (CORS preflight). */
export const CORS_ALLOW_HEADERS = ['Content-Type', 'X-Api-Key', 'Idempotency-Key'];

/** Construct id and name of a consumer's API key. Generation 1 of `default` keeps the stage's historical key
 * (`Key`, `movierec-<stage>-key`): an API key's name cannot change without replacing the key (a new value). */
export function apiKeyIdentity(stage: StageConfig['stage'], spec: ApiKeySpec): { id: string; name: string; output: string } {
  const suffix = `${spec.consumer}${spec.generation > 1 ? `-v${spec.generation}` : ''}`;
  const pascal = suffix.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  if (spec.consumer === 'default' && spec.generation === 1) return { id: 'Key', name: resourceName(stage, 'key'), output: 'ApiKeyId' };
  return { id: `Key${pascal}`, name: resourceName(stage, `key-${suffix}`), output: `ApiKeyId${pascal}` };
}

/** Request parameters API Gateway should know for a route: path parameters (always required), query
 * strings and headers (required when the handler's zod schema rejects a missing value). */
export function requestParametersOf(route: RouteDef): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const req = route.request;
  const groups: Array<[string, z.ZodObject | undefined]> = [
    ['path', req?.params],
    ['querystring', req?.query],
    ['header', req?.headers],
  ];
  for (const [where, schema] of groups) {
    if (!schema) continue;
    for (const [name, field] of Object.entries(schema.shape)) {
      out[`method.request.${where}.${name}`] = where === 'path' || !field.safeParse(undefined).success;
    }
  }
  return out;
}

/** The handler's zod body schema as the JSON Schema draft 4 that API Gateway models speak. */
export function bodySchemaOf(route: RouteDef): apigw.JsonSchema | undefined {
  const body = route.request?.body;
  if (!body) return undefined;
  // an empty metadata registry: the OpenAPI `.meta()` (component ids, examples) stays out of the model, whose
  // schema must be inline (no $ref) for API Gateway
  const { $schema: _ignored, ...schema } = z.toJSONSchema(body, { target: 'draft-4', metadata: z.registry() }) as Record<
    string,
    unknown
  >;
  return { ...(schema as apigw.JsonSchema), schema: apigw.JsonSchemaVersion.DRAFT4 };
}

export interface ApiProps {
  config: StageConfig;
  tables: Tables;
}

export class Api extends Construct {
  readonly function: MovierecFunction;
  readonly alias: lambda.Alias;
  readonly restApi: apigw.RestApi;
  readonly apiKeys: Array<{ spec: ApiKeySpec; key: apigw.IApiKey; output: string }> = [];
  readonly usagePlan: apigw.UsagePlan;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config, tables } = props;
    const name = resourceName(config.stage, 'api');

    this.function = new MovierecFunction(this, 'Handler', {
      config,
      name: 'api',
      entry: API_ENTRY,
      description: 'Answers the recommendation API (API Gateway REST proxy)',
      sizing: config.api,
      // latency-critical: the runtime's SDK keeps the bundle small and the cold start short
      awsSdk: 'runtime',
      environment: {
        [ENV.usersTable]: tables.users.tableName,
        [ENV.clustersTable]: tables.clusters.tableName,
        [ENV.idempotencyTable]: tables.idempotency.tableName,
        [CORS_ORIGINS_ENV]: config.api.corsOrigins.join(','),
      },
    });
    // Least privilege by partition key: reads anywhere in both model tables, writes only of favourites,
    // counters and users the API creates; idempotency records live in a table of their own. dynamodb:LeadingKeys is the item's partition key value
    // ("Using IAM policy conditions for fine-grained access control",
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html); a bug or a
    // compromised API function cannot replace the model, whose pointer (`model`/`active`) it may only read.
    const role = this.function.role;
    role.addToPolicy(tableStatement('ReadItems', API_READ_ACTIONS, tables.all));
    const writes: Array<[string, dynamodb.ITable, string[]]> = [
      ['WriteFavouritesUsers', tables.users, API_WRITE_KEYS.users],
      ['WriteCountersManifest', tables.clusters, API_WRITE_KEYS.clusters],
    ];
    for (const [sid, table, patterns] of writes) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid,
          actions: [...API_WRITE_ACTIONS],
          resources: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } },
        }),
      );
    }
    role.addToPolicy(tableStatement('IdempotencyRecords', IDEMPOTENCY_TABLE_ACTIONS, [tables.idempotency]));

    const pc = config.api.provisionedConcurrency;
    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.function.fn.currentVersion,
      provisionedConcurrentExecutions: pc > 0 ? pc : undefined,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${name}`,
      retention: logRetention(config),
      removalPolicy: removalPolicy(config),
    });

    const throttle = config.api.throttle;
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: name,
      description: `movierec recommendation API (${config.stage})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // API Gateway's logging role is an account-wide, per-region setting (AWS::ApiGateway::Account) that
      // every stack of the account shares, so a stack deletion keeps it; but the rollback of a failed first
      // create removes it, so nothing of a failed deploy stays behind
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      deployOptions: {
        stageName: config.stage,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: config.logLevel === 'DEBUG' ? apigw.MethodLoggingLevel.INFO : apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
      },
      defaultMethodOptions: { apiKeyRequired: true },
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      disableExecuteApiEndpoint: false,
      // browsers send a preflight (OPTIONS, no API key) before a cross-origin call with x-api-key
      defaultCorsPreflightOptions: config.api.corsOrigins.length
        ? {
            allowOrigins: config.api.corsOrigins,
            allowMethods: ['GET', 'POST', 'OPTIONS'],
            allowHeaders: CORS_ALLOW_HEADERS,
            maxAge: Duration.minutes(10),
          }
        : undefined,
    });

    this.addGatewayResponses(config.api.corsOrigins);

    const integration = new apigw.LambdaIntegration(this.alias, { proxy: true, allowTestInvoke: false });
    // Routes come from the handler's own route table (functions/api/routes.ts), so API Gateway and the
    // handler cannot disagree on paths, parameters or the body schema.
    const validateParams = this.restApi.addRequestValidator('ParamsValidator', {
      requestValidatorName: `${name}-params`,
      validateRequestParameters: true,
    });
    const validateBody = this.restApi.addRequestValidator('BodyValidator', {
      requestValidatorName: `${name}-body-and-params`,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    for (const route of ROUTES) {
      const schema = bodySchemaOf(route);
      const modelName = `${route.name[0].toUpperCase()}${route.name.slice(1)}Body`;
      const model = schema
        ? this.restApi.addModel(modelName, { modelName, contentType: 'application/json', schema: { title: modelName, ...schema } })
        : undefined;
      this.restApi.root.resourceForPath(route.path).addMethod(route.method.toUpperCase(), integration, {
        requestValidator: model ? validateBody : validateParams,
        requestParameters: requestParametersOf(route),
        requestModels: model ? { 'application/json': model } : undefined,
      });
    }

    // The usage plan's throttle and quota apply to each API key in it: one key per consumer gives each
    // consumer its own rate and its own quota, and lets one key be rotated or revoked alone.
    this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: resourceName(config.stage, 'usage-plan'),
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      quota: throttle.quotaPerDay ? { limit: throttle.quotaPerDay, period: apigw.Period.DAY } : undefined,
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    for (const spec of config.api.keys) {
      const { id, name: keyName, output } = apiKeyIdentity(config.stage, spec);
      const key = this.restApi.addApiKey(id, {
        apiKeyName: keyName,
        description: `movierec ${config.stage} API key of ${spec.consumer} (generation ${spec.generation})`,
      });
      this.usagePlan.addApiKey(key);
      this.apiKeys.push({ spec, key, output });
    }
  }

  /** One output per key: `ApiKeyId` (the default consumer), `ApiKeyIdWeb`, `ApiKeyIdWebV2`, … */
  addKeyOutputs(scope: Construct): void {
    for (const { spec, key, output } of this.apiKeys) {
      new CfnOutput(scope, output, { description: `API key id of ${spec.consumer} (generation ${spec.generation})`, value: key.keyId });
    }
  }

  /** API Gateway's own rejections, in the same `{error, message}` JSON shape as the handler's, with the
   * statuses functions/api/errors.ts decides. `$context.error.messageString` is API Gateway's message already
   * quoted as a JSON string. */
  private addGatewayResponses(corsOrigins: string[]): void {
    // API Gateway's own answers (403 bad key, 429 throttled, …) carry no CORS headers unless given here, and
    // then only a fixed value: with one origin (or *) a browser can read them; with several it sees a network
    // error instead (the handler's own answers carry the header for every listed origin).
    const responseHeaders = corsOrigins.length === 1 ? { 'Access-Control-Allow-Origin': `'${corsOrigins[0]}'` } : undefined;
    for (const r of GATEWAY_RESPONSES) {
      this.restApi.addGatewayResponse(r.id, {
        type: apigw.ResponseType.of(r.type),
        statusCode: r.statusCode === undefined ? undefined : String(r.statusCode),
        responseHeaders,
        templates: { 'application/json': `{"error":"${r.error}","message":$context.error.messageString}` },
      });
    }
  }
}
