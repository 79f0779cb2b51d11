// The route table and the OpenAPI 3 document generated from it and the zod schemas. The API handler routes
// with ROUTES, `npm run openapi` (bin/run-ts.js functions/api/write-openapi.ts) writes openapi.json, and a test
// checks that the committed file equals generateOpenApi() and that every routed path is in it.
import { OpenAPIRegistry, OpenApiGeneratorV3, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { ZodType } from 'zod';
import {
  ActiveModel,
  ErrorBody,
  FavouriteBody,
  FavouriteResponse,
  Health,
  IdempotencyHeaders,
  RecommendationsQuery,
  Recommendations,
  UserMovies,
  UserPath,
} from './schemas';

export type RouteName = 'health' | 'openapi' | 'activeModel' | 'recommendations' | 'userMovies' | 'addFavourite';

export interface RouteDef {
  name: RouteName;
  method: 'get' | 'post';
  /** OpenAPI path template, e.g. /users/{userId}/movies */
  path: string;
  summary: string;
  request?: RouteConfig['request'];
  ok: { status: 200 | 201; schema: ZodType | null; description: string };
  errors: number[];
}

const json = (schema: ZodType) => ({ content: { 'application/json': { schema } } });

export const ROUTES: RouteDef[] = [
  {
    name: 'health',
    method: 'get',
    path: '/health',
    summary: 'Liveness check',
    ok: { status: 200, schema: Health, description: 'the API is up' },
    errors: [401, 403],
  },
  {
    name: 'openapi',
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI document',
    ok: { status: 200, schema: null, description: 'the OpenAPI 3 document' },
    errors: [401, 403],
  },
  {
    name: 'activeModel',
    method: 'get',
    path: '/models/active',
    summary: "The active model version's metadata",
    ok: { status: 200, schema: ActiveModel, description: 'active model' },
    errors: [401, 403, 503],
  },
  {
    name: 'recommendations',
    method: 'get',
    path: '/users/{userId}/recommendations',
    summary: "Movies most common in the user's cluster that the user does not have (popular for unknown users)",
    request: { params: UserPath, query: RecommendationsQuery },
    ok: { status: 200, schema: Recommendations, description: 'recommendations' },
    errors: [400, 401, 403, 503],
  },
  {
    name: 'userMovies',
    method: 'get',
    path: '/users/{userId}/movies',
    summary: "The user's movies (training data plus favourites); empty for an unknown user",
    request: { params: UserPath },
    ok: { status: 200, schema: UserMovies, description: "the user's movies" },
    errors: [400, 401, 403, 503],
  },
  {
    name: 'addFavourite',
    method: 'post',
    path: '/users/{userId}/movies',
    summary: "Add a favourite movie: the user's history and the cluster's count, once per user and movie",
    request: {
      params: UserPath,
      headers: IdempotencyHeaders,
      body: { ...json(FavouriteBody), required: true },
    },
    ok: { status: 200, schema: FavouriteResponse, description: 'the favourite was recorded (added=false: already had it)' },
    errors: [400, 401, 403, 409, 503],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid id, parameter or body',
  401: 'missing x-api-key',
  403: 'wrong x-api-key',
  404: 'unknown route',
  409: 'a request with this Idempotency-Key is in progress or had another body, or the favourite limit is reached',
  500: 'internal error (no details)',
  503: 'no model published yet, or the database is throttling (see Retry-After)',
};

export function generateOpenApi(): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
  for (const r of ROUTES) {
    const responses: RouteConfig['responses'] = {
      [r.ok.status]: r.ok.schema
        ? { description: r.ok.description, ...json(r.ok.schema) }
        : { description: r.ok.description, content: { 'application/json': { schema: { type: 'object' } } } },
    };
    for (const s of [...r.errors, 500]) responses[s] = { description: ERROR_TEXT[s], ...json(ErrorBody) };
    registry.registerPath({
      method: r.method,
      path: r.path,
      operationId: r.name,
      summary: r.summary,
      security: [{ apiKey: [] }],
      request: r.request,
      responses,
    });
  }
  const doc = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'movierec API',
      version: '1.0.0',
      description: 'Movie recommendations from K-means user clusters. Every route requires the x-api-key header.',
    },
    servers: [{ url: '/' }],
  });
  return doc as unknown as Record<string, unknown>;
}

/** The committed file at the repo root and its exact text. */
export const OPENAPI_FILE = 'openapi.json';
export const renderOpenApi = () => JSON.stringify(generateOpenApi(), null, 2) + '\n';
