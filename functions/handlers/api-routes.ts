// The API's routes, one use case each (functions/app/): parse the request with the route's zod schemas, call
// the use case, answer JSON. The handler (api.ts) routes to these through the route table (api/routes.ts) and
// owns the middlewares; errors thrown here are mapped to statuses by api/errors.ts alone.
import middy from '@middy/core';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { jsonResponse } from '../api/errors';
import { jsonBody } from '../api/middlewares';
import type { RouteName } from '../api/routes';
import { FavouriteBody, IdempotencyHeaders, MoviePath, RecommendationsQuery, SimilarQuery, UserPath } from '../api/schemas';
import { activeModel } from '../app/active-model';
import type { TrainingStatusStore } from '../ports/training-run';
import { addFavourite } from '../app/favourites';
import { recommendations } from '../app/recommend';
import { similarMovies } from '../app/similar';
import { userMovies } from '../app/user-movies';
import type { ModelStore } from '../ports';
// The committed document, generated from the same schemas by `npm run openapi` and checked equal to them by
// test/unit/api-openapi.test.ts; the generator itself stays out of the Lambda bundle.
import OPENAPI_DOCUMENT from '../../openapi.json';

type Event = APIGatewayProxyEvent;
export type Route = (event: Event, context: Context) => Promise<APIGatewayProxyResult>;

export interface RouteDeps {
  store: ModelStore;
  idempotency: BasePersistenceLayer;
  metrics: Metrics;
  now: () => number;
  /** the training state machine's status item (shown by GET /models/active) */
  training?: Pick<TrainingStatusStore, 'get'>;
}

export function makeRoutes({ store, idempotency: persistenceStore, metrics, now, training }: RouteDeps): Record<RouteName, Route> {
  // a replay is marked so that the response can say so; the stored result itself is the first response's
  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: '[userId, movieId]',
    expiresAfterSeconds: 86_400,
    responseHook: (response) => ({ ...(response as object), replayed: true }),
  });
  const addFavouriteOnce = makeIdempotent(
    async (req: { key: string; userId: number; movieId: number }) => ({ body: await addFavourite(store, req.userId, req.movieId, now), replayed: false }),
    { persistenceStore, config: idempotency, keyPrefix: 'addFavourite' },
  );

  return {
    health: async () => jsonResponse(200, { status: 'ok' }),
    openapi: async () => jsonResponse(200, OPENAPI_DOCUMENT),
    activeModel: async () => jsonResponse(200, await activeModel(store, training)),
    recommendations: async (event) => {
      const { userId } = UserPath.parse(event.pathParameters ?? {});
      const { n, offset, genre, excludeGenre, exclude } = RecommendationsQuery.parse(event.queryStringParameters ?? {});
      const filter = genre || excludeGenre || exclude ? { genres: genre, excludeGenres: excludeGenre, exclude } : undefined;
      const body = await recommendations(store, userId, n, offset, filter);
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
    similarMovies: async (event) => {
      const { movieId } = MoviePath.parse(event.pathParameters ?? {});
      const { n } = SimilarQuery.parse(event.queryStringParameters ?? {});
      return jsonResponse(200, await similarMovies(store, movieId, n));
    },
  };
}
