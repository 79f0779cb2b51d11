// The recommendation API Lambda (API Gateway REST proxy integration), a thin middy handler over the service.
// Dependencies are built once per cold start: `handler` = makeHandler(depsFromEnv()) on first call.
import { createHash, timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient } from '../adapters/aws';
import { DynamoIdempotencyStore, DynamoModelStore } from '../adapters/dynamo-model-store';
import { HttpError, httpErrors, jsonResponse } from '../api/errors';
import { ROUTES, type RouteDef, type RouteName } from '../api/routes';
import { FavouriteBody, IdempotencyHeaders, RecommendationsQuery, UserPath } from '../api/schemas';
import * as service from '../api/service';
import type { IdempotencyStore, ModelStore } from '../ports';
import { ENV, tableNames } from '../shared/resources';
// The committed document, generated from the same schemas by `npm run openapi` and checked equal to them by
// test/unit/api-openapi.test.ts; the generator itself stays out of the Lambda bundle.
import OPENAPI_DOCUMENT from '../../openapi.json';

export interface ApiDeps {
  store: ModelStore;
  idempotency: IdempotencyStore;
  /** when set, requests must carry this x-api-key (local stack; in AWS, API Gateway checks keys) */
  apiKey?: string;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => number;
}

type ApiEvent = APIGatewayProxyEvent;

interface Matched {
  route: RouteDef;
  params: Record<string, string>;
}

const compiled = ROUTES.map((route) => {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      route.path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      }) +
      '/?$',
  );
  return { route, re, names };
});

export function matchRoute(method: string, path: string): Matched | 'method-not-allowed' | null {
  let pathMatched = false;
  for (const c of compiled) {
    const m = c.re.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (c.route.method !== method.toLowerCase()) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    return { route: c.route, params };
  }
  return pathMatched ? 'method-not-allowed' : null;
}

function requireApiKey(expected: string | undefined): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      if (!expected) return;
      const got = request.event.headers?.['x-api-key'];
      if (!got) throw new HttpError(401, 'unauthorized', 'Missing x-api-key header.');
      const a = Buffer.from(got);
      const b = Buffer.from(expected);
      if (a.length !== b.length || !timingSafeEqual(a, b)) {
        throw new HttpError(403, 'forbidden', 'The x-api-key header is not valid.');
      }
    },
  };
}

function parseJsonBody(event: ApiEvent): unknown {
  if (!event.body) throw new HttpError(400, 'validation_error', 'The request body must be JSON like {"movieId": 123}.');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON; send {"movieId": 123}.');
  }
}

export function makeHandler(deps: ApiDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'movierec-api' });
  const metrics = deps.metrics ?? new Metrics({ namespace: 'movierec', serviceName: 'movierec-api' });
  const now = deps.now ?? Date.now;

  const routes: Record<RouteName, (event: ApiEvent, params: Record<string, string>) => Promise<APIGatewayProxyResult>> = {
    health: async () => jsonResponse(200, { status: 'ok' }),
    openapi: async () => jsonResponse(200, OPENAPI_DOCUMENT),
    activeModel: async () => jsonResponse(200, await service.activeModel(deps.store)),
    recommendations: async (event, params) => {
      const { userId } = UserPath.parse(params);
      const { n, offset } = RecommendationsQuery.parse(event.queryStringParameters ?? {});
      const body = await service.recommendations(deps.store, userId, n, offset);
      metrics.addMetric(body.source === 'cluster' ? 'sourceCluster' : 'sourcePopular', MetricUnit.Count, 1);
      return jsonResponse(200, body);
    },
    userMovies: async (_event, params) => {
      const { userId } = UserPath.parse(params);
      return jsonResponse(200, await service.userMovies(deps.store, userId));
    },
    addFavourite: async (event, params) => {
      const { userId } = UserPath.parse(params);
      const headers = IdempotencyHeaders.parse({ 'idempotency-key': event.headers?.['idempotency-key'] });
      const { movieId } = FavouriteBody.parse(parseJsonBody(event));
      const key = headers['idempotency-key'];
      if (!key) return jsonResponse(200, await service.addFavourite(deps.store, userId, movieId, now));

      const hash = createHash('sha256').update(`${userId}:${movieId}`).digest('hex');
      const claim = await deps.idempotency.begin(key, hash);
      if (claim.state === 'done') {
        metrics.addMetric('idempotentReplay', MetricUnit.Count, 1);
        return jsonResponse(claim.response.statusCode, claim.response.body, { 'Idempotent-Replayed': 'true' });
      }
      if (claim.state === 'mismatch') {
        throw new HttpError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
      }
      if (claim.state === 'in-progress') {
        throw new HttpError(409, 'request_in_progress', 'A request with this Idempotency-Key is still running; retry shortly.', {
          'Retry-After': '1',
        });
      }
      try {
        const body = await service.addFavourite(deps.store, userId, movieId, now);
        await deps.idempotency.complete(key, hash, { statusCode: 200, body });
        return jsonResponse(200, body);
      } catch (e) {
        await deps.idempotency.release(key).catch(() => undefined);
        throw e;
      }
    },
  };

  const base = async (event: ApiEvent): Promise<APIGatewayProxyResult> => {
    const started = now();
    const m = matchRoute(event.httpMethod ?? 'GET', event.path ?? '/');
    if (m === null) throw new HttpError(404, 'not_found', `No route ${event.httpMethod} ${event.path}.`);
    if (m === 'method-not-allowed') {
      throw new HttpError(404, 'not_found', `No route ${event.httpMethod} ${event.path} (wrong method).`);
    }
    const res = await routes[m.route.name](event, m.params);
    metrics.addMetric('latency', MetricUnit.Milliseconds, now() - started);
    return res;
  };

  return middy<ApiEvent, APIGatewayProxyResult>(base)
    .use(httpErrors(logger))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer())
    .use(requireApiKey(deps.apiKey));
}

export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const doc = makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env)));
  const usersTable = env[ENV.usersTable] ?? names.users;
  return {
    store: new DynamoModelStore({ doc, usersTable, clustersTable: env[ENV.clustersTable] ?? names.clusters }),
    idempotency: new DynamoIdempotencyStore({ doc, table: usersTable }),
    apiKey: env[ENV.apiKey] || undefined,
  };
}

let cold: ReturnType<typeof makeHandler> | null = null;
/** Built on the first invocation (once per cold start), so importing this module has no side effects. */
export const handler = (event: ApiEvent, context: Context) => (cold ??= makeHandler(depsFromEnv()))(event, context);
