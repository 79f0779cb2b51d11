// The recommendation API Lambda (API Gateway REST proxy integration): @middy/http-router dispatches each route
// of the route table (api/routes.ts) to one use case (functions/app/); zod validates the input, the JSON body
// parser reads the POST body, Powertools makes a POST with an Idempotency-Key idempotent, and api/errors.ts
// alone maps errors to statuses. Dependencies are built once per cold start.
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Method } from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient } from '../adapters/aws';
import { DynamoModelStore } from '../adapters/dynamo/store';
import { EDGE, httpErrors, jsonResponse } from '../api/errors';
import { jsonBody, requestMetrics, requireApiKey } from '../api/middlewares';
import { ROUTES, type RouteName } from '../api/routes';
import { FavouriteBody, IdempotencyHeaders, RecommendationsQuery, UserPath } from '../api/schemas';
import { activeModel } from '../app/active-model';
import { DynamoTrainingStatus } from '../adapters/dynamo/training';
import type { TrainingStatusStore } from '../ports/training-run';
import { addFavourite } from '../app/favourites';
import { recommendations } from '../app/recommend';
import { userMovies } from '../app/user-movies';
import type { ModelStore } from '../ports';
import { ENV, tableNames } from '../shared/resources';
import { observability } from './observability';
// The committed document, generated from the same schemas by `npm run openapi` and checked equal to them by
// test/unit/api-openapi.test.ts; the generator itself stays out of the Lambda bundle.
import OPENAPI_DOCUMENT from '../../openapi.json';

export interface ApiDeps {
  store: ModelStore;
  /** where Powertools keeps the idempotency records of POSTs with an Idempotency-Key (24 h) */
  idempotency: BasePersistenceLayer;
  /** when set, requests must carry this x-api-key (local stack; in AWS, API Gateway checks keys) */
  apiKey?: string;
  /** the training state machine's status item (shown by GET /models/active) */
  training?: Pick<TrainingStatusStore, 'get'>;
  /** browser origins allowed to read the answers (CORS; `*` for any); none by default */
  corsOrigins?: string[];
  logger?: Logger;
  metrics?: Metrics;
  now?: () => number;
}

type Event = APIGatewayProxyEvent;
type Route = (event: Event, context: Context) => Promise<APIGatewayProxyResult>;

export function makeHandler(deps: ApiDeps) {
  const { logger, metrics } = deps.logger && deps.metrics ? { logger: deps.logger, metrics: deps.metrics } : observability('api');
  const now = deps.now ?? Date.now;
  const { store } = deps;
  // a replay is marked so that the response can say so; the stored result itself is the first response's
  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: '[userId, movieId]',
    expiresAfterSeconds: 86_400,
    responseHook: (response) => ({ ...(response as object), replayed: true }),
  });
  const addFavouriteOnce = makeIdempotent(
    async (req: { key: string; userId: number; movieId: number }) => ({ body: await addFavourite(store, req.userId, req.movieId, now), replayed: false }),
    { persistenceStore: deps.idempotency, config: idempotency, keyPrefix: 'addFavourite' },
  );

  const routes: Record<RouteName, Route> = {
    health: async () => jsonResponse(200, { status: 'ok' }),
    openapi: async () => jsonResponse(200, OPENAPI_DOCUMENT),
    activeModel: async () => jsonResponse(200, await activeModel(store, deps.training)),
    recommendations: async (event) => {
      const { userId } = UserPath.parse(event.pathParameters ?? {});
      const { n, offset } = RecommendationsQuery.parse(event.queryStringParameters ?? {});
      const body = await recommendations(store, userId, n, offset);
      metrics.addMetric(body.source === 'cluster' ? 'sourceCluster' : 'sourcePopular', MetricUnit.Count, 1);
      return jsonResponse(200, body);
    },
    userMovies: async (event) => jsonResponse(200, await userMovies(store, UserPath.parse(event.pathParameters ?? {}).userId)),
    addFavourite: middy(async (event: Event, context: Context) => {
      const { userId } = UserPath.parse(event.pathParameters ?? {});
      const key = IdempotencyHeaders.parse({ 'idempotency-key': event.headers?.['idempotency-key'] })['idempotency-key'];
      const { movieId } = FavouriteBody.parse(event.body);
      if (!key) return jsonResponse(200, await addFavourite(store, userId, movieId, now));
      idempotency.registerLambdaContext(context);
      const { body, replayed } = await addFavouriteOnce({ key, userId, movieId });
      if (replayed) metrics.addMetric('idempotentReplay', MetricUnit.Count, 1);
      return jsonResponse(200, body, replayed ? { 'Idempotent-Replayed': 'true' } : {});
    }).use(jsonBody),
  };

  const router = httpRouterHandler({
    routes: ROUTES.map((r) => ({ method: r.method.toUpperCase() as Method, path: r.path, handler: routes[r.name] })),
    notFoundResponse: ({ method, path }) => {
      throw EDGE.notFound(method, path);
    },
  });
  const handler = middy<Event, APIGatewayProxyResult>(router as unknown as Route);
  // before the error mapper: middy runs onError in reverse order, so CORS headers reach error answers too
  if (deps.corsOrigins?.length) handler.use(httpCors({ origins: deps.corsOrigins }));
  return handler
    .use(httpErrors(logger))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer())
    .use(requireApiKey(deps.apiKey))
    .use(requestMetrics(metrics, store, now));
}

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const client = makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env));
  const doc = makeDocClient(client);
  const clustersTable = env[ENV.clustersTable] ?? names.clusters;
  return {
    store: new DynamoModelStore({ doc, usersTable: env[ENV.usersTable] ?? names.users, clustersTable }),
    training: new DynamoTrainingStatus(doc, clustersTable),
    idempotency: new DynamoDBPersistenceLayer({ tableName: env[ENV.idempotencyTable] ?? names.idempotency, awsSdkV3Client: client }),
    apiKey: env[ENV.apiKey] || undefined,
    corsOrigins: (env[ENV.corsOrigins] ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  };
}

let cold: ReturnType<typeof makeHandler> | null = null;
/** Built on the first invocation (once per cold start), so importing this module has no side effects. */
export const handler = (event: Event, context: Context) => (cold ??= makeHandler(depsFromEnv()))(event, context);
