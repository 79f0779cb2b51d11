// The recommendation API: a REST API whose every method needs an API key (usage plan limits from the
// stage), proxies to one Lambda through its `live` alias (provisioned concurrency where configured),
// validates what API Gateway can validate, and answers its own errors as JSON `{error, message}`.
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as z from 'zod';
import { GATEWAY_RESPONSES } from '../functions/api/errors';
import { ROUTES, type RouteDef } from '../functions/api/routes';
import { ENV } from '../functions/shared/resources';
import { type StageConfig, resourceName } from './config';
import { MovierecFunction } from './function';
import { Tables } from './storage';
import { tableStatement } from './training';

export const API_ENTRY = 'functions/handlers/api.ts';

/** DynamoDB actions of the API function: point reads/queries (BatchGetItem: a taste user's cluster counters in
 * one request), favourites and idempotency records. No Scan. */
export const API_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** Powertools' idempotency persistence layer: claim (conditional put), read, complete, release on failure. */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

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
  readonly apiKey: apigw.IApiKey;
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
      },
    });
    this.function.role.addToPolicy(tableStatement('ReadWriteItems', API_TABLE_ACTIONS, tables.all));
    this.function.role.addToPolicy(tableStatement('IdempotencyRecords', IDEMPOTENCY_TABLE_ACTIONS, [tables.idempotency]));

    const pc = config.api.provisionedConcurrency;
    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.function.fn.currentVersion,
      provisionedConcurrentExecutions: pc > 0 ? pc : undefined,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${name}`,
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });

    const throttle = config.api.throttle;
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: name,
      description: `movierec recommendation API (${config.stage})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
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
    });

    this.addGatewayResponses();

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

    this.apiKey = this.restApi.addApiKey('Key', {
      apiKeyName: resourceName(config.stage, 'key'),
      description: `movierec ${config.stage} API key`,
    });
    this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
      name: resourceName(config.stage, 'usage-plan'),
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      quota: { limit: throttle.quotaPerDay, period: apigw.Period.DAY },
      apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
    });
    this.usagePlan.addApiKey(this.apiKey);
  }

  /** API Gateway's own rejections, in the same `{error, message}` JSON shape as the handler's, with the
   * statuses functions/api/errors.ts decides. `$context.error.messageString` is API Gateway's message already
   * quoted as a JSON string. */
  private addGatewayResponses(): void {
    for (const r of GATEWAY_RESPONSES) {
      this.restApi.addGatewayResponse(r.id, {
        type: apigw.ResponseType.of(r.type),
        statusCode: r.statusCode === undefined ? undefined : String(r.statusCode),
        templates: { 'application/json': `{"error":"${r.error}","message":$context.error.messageString}` },
      });
    }
  }
}
