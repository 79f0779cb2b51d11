// The API's route table: what the handler routes on, what API Gateway is configured from (lib/api.ts) and
// what openapi.ts documents. Only zod schemas and plain data, so the Lambda bundle stays small: the OpenAPI
// generator is never imported by the handler (it serves the committed openapi.json).
import type { ZodObject, ZodType } from 'zod';
import {
  ActiveModel,
  FavouriteBody,
  FavouriteResponse,
  Health,
  IdempotencyHeaders,
  MoviePath,
  RecommendationsQuery,
  Recommendations,
  SimilarMovies,
  SimilarQuery,
  UserMovies,
  UserPath,
} from './schemas';

export type RouteName = 'health' | 'openapi' | 'activeModel' | 'recommendations' | 'userMovies' | 'addFavourite' | 'similarMovies';

/** The zod schemas a route validates its input with: path parameters, query string, headers, JSON body. */
export interface RouteRequest {
  params?: ZodObject;
  query?: ZodObject;
  headers?: ZodObject;
  /** a JSON body, always required when present */
  body?: ZodType;
}

export interface RouteDef {
  name: RouteName;
  method: 'get' | 'post';
  /** OpenAPI path template, e.g. /users/{userId}/movies */
  path: string;
  summary: string;
  request?: RouteRequest;
  ok: { status: 200 | 201; schema: ZodType | null; description: string };
  errors: number[];
}

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
    summary:
      "Movies most common in the user's cluster that the user does not have (popular for unknown users), optionally filtered by genre or id; a filtered page is still n items long when the lists hold enough",
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
    request: { params: UserPath, headers: IdempotencyHeaders, body: FavouriteBody },
    ok: { status: 200, schema: FavouriteResponse, description: 'the favourite was recorded (added=false: already had it)' },
    errors: [400, 401, 403, 409, 503],
  },
  {
    name: 'similarMovies',
    method: 'get',
    path: '/movies/{movieId}/similar',
    summary: 'Movies most like this one ("more like this"), computed from the clusters when the model was trained',
    request: { params: MoviePath, query: SimilarQuery },
    ok: { status: 200, schema: SimilarMovies, description: 'similar movies, best first' },
    errors: [400, 401, 403, 404, 503],
  },
];
