// The recommendation API Lambda (API Gateway REST proxy integration): @middy/http-router dispatches each route
// of the route table (api/routes.ts) to one use case (functions/app/) through api-routes.ts, where zod validates
// the input, the JSON body parser reads the POST body and Powertools makes a POST with an Idempotency-Key
// idempotent; api/errors.ts alone maps errors to statuses. Dependencies are built once per cold start.
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler, { type Method } from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient } from '../adapters/aws';
import { DynamoModelStore } from '../adapters/dynamo/store';
import { EDGE, httpErrors } from '../api/errors';
import { requestMetrics, requireApiKey } from '../api/middlewares';
import { ROUTES } from '../api/routes';
import { DynamoTrainingStatus } from '../adapters/dynamo/training';
import type { TrainingStatusStore } from '../ports/training-run';
import type { ModelStore } from '../ports';
import { ENV, tableNames } from '../shared/resources';
import { makeRoutes, type Route } from './api-routes';
import { observability } from './observability';

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

export function makeHandler(deps: ApiDeps) {
  const { logger, metrics } = deps.logger && deps.metrics ? { logger: deps.logger, metrics: deps.metrics } : observability('api');
  const now = deps.now ?? Date.now;
  const { store } = deps;
  const routes = makeRoutes({ store, idempotency: deps.idempotency, metrics, now, training: deps.training });

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

/** How the API reads the model tables: favourite counters cached for a second and refreshed in the background
 * (functions/adapters/dynamo/lists.ts), so a warm recommendation costs one GetItem; other callers' favourites
 * show up within about a second, the caller's own at once. */
export const API_STORE_OPTIONS = { countersMaxAgeMs: 1_000 } as const;

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const client = makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env));
  const doc = makeDocClient(client);
  const clustersTable = env[ENV.clustersTable] ?? names.clusters;
  return {
    store: new DynamoModelStore({ doc, usersTable: env[ENV.usersTable] ?? names.users, clustersTable, ...API_STORE_OPTIONS }),
    training: new DynamoTrainingStatus(doc, clustersTable),
    idempotency: new DynamoDBPersistenceLayer({ tableName: env[ENV.idempotencyTable] ?? names.idempotency, awsSdkV3Client: client }),
    apiKey: env[ENV.apiKey] || undefined,
    corsOrigins: (env[ENV.corsOrigins] ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  };
}

let cold: ReturnType<typeof makeHandler> | null = null;
/** Built on the first invocation (once per cold start), so importing this module has no side effects. */
export const handler = (event: Event, context: Context) => (cold ??= makeHandler(depsFromEnv()))(event, context);
