// The recommendation API: a REST API whose every method needs an API key (usage plan limits from the
// stage), proxies to one Lambda through its `live` alias (provisioned concurrency where configured),
// validates what API Gateway can validate, and answers its own errors as JSON `{error, message}`.
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { keys } from '../functions/adapters/dynamo-layout';
import { ENV } from '../functions/shared/resources';
import { type StageConfig, resourceName } from './config';
import { MovierecFunction } from './function';
import { Tables } from './storage';
import { tableStatement } from './training';

export const API_ENTRY = 'functions/handlers/api.ts';

/** DynamoDB actions of the API function: point reads/queries, favourites and idempotency records. No Scan. */
export const API_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** Partition-key prefix of the POST idempotency records, from the table layout itself: the only items
 * the API may delete (it releases its claim when a request fails). */
export const IDEMPOTENCY_PK_PREFIX = keys.idem('').pk;

/** Every route the API serves: [method, path]. */
export const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/health'],
  ['GET', '/openapi.json'],
  ['GET', '/models/active'],
  ['GET', '/users/{userId}/recommendations'],
  ['GET', '/users/{userId}/movies'],
  ['POST', '/users/{userId}/movies'],
];

/** JSON Schema (draft 4, what API Gateway models speak) of the POST /users/{userId}/movies body. */
export const ADD_FAVOURITE_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'AddFavourite',
  type: apigw.JsonSchemaType.OBJECT,
  required: ['movieId'],
  properties: {
    movieId: { type: apigw.JsonSchemaType.INTEGER, minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  },
};

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
      environment: {
        [ENV.usersTable]: tables.users.tableName,
        [ENV.clustersTable]: tables.clusters.tableName,
      },
    });
    this.function.role.addToPolicy(tableStatement('ReadWriteItems', API_TABLE_ACTIONS, tables.all));
    this.function.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReleaseIdempotencyClaims',
        actions: ['dynamodb:DeleteItem'],
        resources: [tables.users.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${IDEMPOTENCY_PK_PREFIX}*`] } },
      }),
    );

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
    const validateParams = this.restApi.addRequestValidator('ParamsValidator', {
      requestValidatorName: `${name}-params`,
      validateRequestParameters: true,
    });
    const validateBody = this.restApi.addRequestValidator('BodyValidator', {
      requestValidatorName: `${name}-body-and-params`,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const addFavourite = this.restApi.addModel('AddFavourite', {
      modelName: 'AddFavourite',
      contentType: 'application/json',
      schema: ADD_FAVOURITE_SCHEMA,
    });
    const userPath = { 'method.request.path.userId': true };

    const root = this.restApi.root;
    root.addResource('health').addMethod('GET', integration, { requestValidator: validateParams });
    root.addResource('openapi.json').addMethod('GET', integration, { requestValidator: validateParams });
    root.addResource('models').addResource('active').addMethod('GET', integration, { requestValidator: validateParams });
    const user = root.addResource('users').addResource('{userId}');
    user.addResource('recommendations').addMethod('GET', integration, {
      requestValidator: validateParams,
      requestParameters: { ...userPath, 'method.request.querystring.n': false, 'method.request.querystring.offset': false },
    });
    const movies = user.addResource('movies');
    movies.addMethod('GET', integration, { requestValidator: validateParams, requestParameters: userPath });
    movies.addMethod('POST', integration, {
      requestValidator: validateBody,
      requestParameters: { ...userPath, 'method.request.header.Idempotency-Key': false },
      requestModels: { 'application/json': addFavourite },
    });

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

  /** API Gateway's own rejections, in the same `{error, message}` JSON shape as the handler's.
   * `$context.error.messageString` is API Gateway's message already quoted as a JSON string. */
  private addGatewayResponses(): void {
    const responses: Array<[string, apigw.ResponseType, string | undefined, string]> = [
      // unknown routes: API Gateway says 403 "Missing Authentication Token"; the product says 404
      ['NotFound', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'not_found'],
      ['BadBody', apigw.ResponseType.BAD_REQUEST_BODY, '400', 'bad_request'],
      ['BadParams', apigw.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'bad_request'],
      ['BadKey', apigw.ResponseType.INVALID_API_KEY, '403', 'forbidden'],
      ['Throttled', apigw.ResponseType.THROTTLED, '429', 'throttled'],
      ['Quota', apigw.ResponseType.QUOTA_EXCEEDED, '429', 'quota_exceeded'],
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX, undefined, 'client_error'],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX, undefined, 'server_error'],
    ];
    for (const [id, type, statusCode, error] of responses) {
      this.restApi.addGatewayResponse(id, {
        type,
        statusCode,
        templates: { 'application/json': `{"error":"${error}","message":$context.error.messageString}` },
      });
    }
  }
}
