// The API's request and response schemas (zod 4). The handler validates with them and openapi.ts generates
// the OpenAPI document from them, so the two cannot disagree. OpenAPI details ride on zod's own `.meta()`
// (`id` names a component schema, `param` describes a parameter), which zod-to-openapi reads; nothing here
// imports the generator, and `import * as z` (not `{ z }`) lets esbuild drop the parts of zod the Lambda
// never calls (locales, JSON Schema), keeping the API bundle small.
import * as z from 'zod';

export const MAX_N = 100;
export const DEFAULT_N = 10;
/** similar movies stored per movie (core SIMILAR_MAX; a test keeps the two equal) */
export const MAX_SIMILAR_N = 50;
export const MAX_EXCLUDE_IDS = 500;

/** A decimal integer in a path or query string, range-checked as a number. */
const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`))
    .meta({ type: 'integer', minimum: min, maximum: max });

export const UserPath = z.object({
  userId: intString('userId', 0, Number.MAX_SAFE_INTEGER).meta({ param: { name: 'userId', in: 'path' }, example: 42 }),
});

export const MoviePath = z.object({
  movieId: intString('movieId', 0, Number.MAX_SAFE_INTEGER).meta({ param: { name: 'movieId', in: 'path' }, example: 1 }),
});

/** A comma-separated list of genre names in a query string (MovieLens names hold no commas). */
const genreList = (name: string, description: string) =>
  z
    .string()
    .regex(/^[^,]{1,64}(,[^,]{1,64}){0,19}$/, `${name} must be 1-20 comma-separated genre names`)
    .transform((v) => v.split(',').map((g) => g.trim()))
    .optional()
    .meta({ param: { name, in: 'query' }, description, type: 'string', example: name === 'genre' ? 'Comedy' : 'Horror' });

export const RecommendationsQuery = z.object({
  n: intString('n', 1, MAX_N)
    .optional()
    .default(DEFAULT_N)
    .meta({ param: { name: 'n', in: 'query' }, description: `how many items (1..${MAX_N})`, default: DEFAULT_N }),
  offset: intString('offset', 0, 1_000_000)
    .optional()
    .default(0)
    .meta({ param: { name: 'offset', in: 'query' }, description: 'items to skip (paging)', default: 0 }),
  genre: genreList(
    'genre',
    'only movies with at least one of these genres (comma-separated, case-insensitive; needs the movie catalogue, movies.csv)',
  ),
  excludeGenre: genreList('excludeGenre', 'no movie with any of these genres (comma-separated, case-insensitive; needs the movie catalogue)'),
  exclude: z
    .string()
    .regex(new RegExp(`^\\d{1,16}(,\\d{1,16}){0,${MAX_EXCLUDE_IDS - 1}}$`), `exclude must be 1-${MAX_EXCLUDE_IDS} comma-separated movie ids`)
    .transform((v) => v.split(',').map(Number))
    .pipe(z.array(z.number().max(Number.MAX_SAFE_INTEGER, 'exclude: movie ids must be at most 2^53 - 1')))
    .optional()
    .meta({
      param: { name: 'exclude', in: 'query' },
      description: `movie ids never to recommend (comma-separated, at most ${MAX_EXCLUDE_IDS})`,
      type: 'string',
      example: '1,2,3',
    }),
});

export const SimilarQuery = z.object({
  n: intString('n', 1, MAX_SIMILAR_N)
    .optional()
    .default(DEFAULT_N)
    .meta({ param: { name: 'n', in: 'query' }, description: `how many similar movies (1..${MAX_SIMILAR_N})`, default: DEFAULT_N }),
});

export const FavouriteBody = z
  .object({
    movieId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).meta({ example: 318 }),
  })
  .strict()
  .meta({ id: 'FavouriteRequest' });

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ : -')
    .optional()
    .meta({
      param: { name: 'idempotency-key', in: 'header' },
      description: 'a retried request with the same key is answered with the first response and counted once (24 h)',
    }),
});

const MovieRef = {
  movieId: z.number().int(),
  title: z.string().optional(),
  genres: z.array(z.string()).optional(),
};

export const RecommendationItem = z
  .object({
    ...MovieRef,
    score: z.number().meta({ description: 'seed model: users in the cluster who have it; taste model: Σ weight · count / size over your clusters' }),
    reason: z.string().meta({
      description: 'why: with the movie catalogue loaded, a movie you watched that is typical of the cluster it comes from ("because you watched Heat (1995): …"); the clusters otherwise',
    }),
    because: z.number().int().optional().meta({ description: 'the watched movie the reason names (only with the movie catalogue loaded)' }),
  })
  .meta({ id: 'RecommendationItem' });

export const Recommendations = z
  .object({
    userId: z.number().int(),
    modelVersion: z.string(),
    cluster: z.number().int().nullable(),
    source: z.enum(['cluster', 'popular']),
    items: z.array(RecommendationItem),
  })
  .meta({ id: 'Recommendations' });

export const SimilarMovies = z
  .object({
    ...MovieRef,
    modelVersion: z.string(),
    items: z.array(
      z
        .object({
          ...MovieRef,
          score: z.number().meta({ description: 'estimated cosine of the two movies\' audiences, from the clusters (0..1]' }),
        })
        .meta({ id: 'SimilarItem' }),
    ),
  })
  .meta({ id: 'SimilarMovies' });

export const UserMovies = z
  .object({
    userId: z.number().int(),
    modelVersion: z.string(),
    count: z.number().int(),
    movies: z.array(z.object(MovieRef)),
  })
  .meta({ id: 'UserMovies' });

export const FavouriteResponse = z
  .object({
    userId: z.number().int(),
    movieId: z.number().int(),
    modelVersion: z.string(),
    cluster: z.number().int(),
    added: z.boolean().meta({ description: 'false when the user already had the movie (nothing counted)' }),
    count: z.number().int().meta({ description: "the movie's count in the user's cluster after the call" }),
    newUser: z.boolean(),
  })
  .meta({ id: 'FavouriteResponse' });

export const ActiveModel = z
  .object({
    version: z.string(),
    activatedAt: z.string(),
    previous: z.string().nullable(),
    createdAt: z.string(),
    source: z.object({ bucket: z.string(), key: z.string(), versionId: z.string().optional(), etag: z.string().optional() }),
    users: z.number().int(),
    clusters: z.array(z.object({ id: z.number().int(), size: z.number().int(), movies: z.number().int() })),
    /** favourites added through the API before this version was published, which it took over from earlier
     * versions (absent for versions published before this was recorded) */
    favourites: z
      .object({ carriedOver: z.number().int(), users: z.number().int(), note: z.string() })
      .optional()
      .meta({ description: 'Favourites added through the API before this version was published and carried into it from earlier versions, whatever file those were trained on.' }),
    summary: z.record(z.string(), z.unknown()),
    /** the training in progress (or the last one) on the training state machine, when there is one */
    training: z
      .object({
        version: z.string(),
        key: z.string(),
        mode: z.literal('distributed'),
        phase: z.string().meta({ example: 'clustering' }),
        partitions: z.number().int().optional(),
        job: z.number().int().optional(),
        jobs: z.number().int().optional(),
        restart: z.number().int().optional(),
        iteration: z.number().int().optional(),
        maxIter: z.number().int().optional(),
        round: z.number().int().optional(),
        k: z.number().int().optional(),
        inertia: z.number().optional(),
        error: z.string().optional(),
        startedAt: z.string(),
        updatedAt: z.string(),
      })
      .optional(),
    export: z
      .object({
        state: z.enum(['writing', 'written', 'failed']),
        bucket: z.string(),
        key: z.string().meta({ example: 'exports/610489f094e41c31/recommendations.csv.gz' }),
        topN: z.number().int(),
        startedAt: z.string(),
        finishedAt: z.string().optional(),
        users: z.number().int().optional(),
        rows: z.number().int().optional(),
        bytes: z.number().int().optional(),
        message: z.string().optional(),
      })
      .optional()
      .meta({
        id: 'Export',
        description: "this version's batch export: every user's top-N as gzipped CSV userId,rank,movieId,score (absent when the stage writes none)",
      }),
  })
  .meta({ id: 'ActiveModel' });

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const ErrorBody = z
  .object({
    error: z.string().meta({ example: 'validation_error' }),
    message: z.string().meta({ example: 'n must be at most 100.' }),
  })
  .meta({ id: 'Error' });

export type RecommendationsT = z.infer<typeof Recommendations>;
export type UserMoviesT = z.infer<typeof UserMovies>;
export type SimilarMoviesT = z.infer<typeof SimilarMovies>;
export type FavouriteResponseT = z.infer<typeof FavouriteResponse>;
export type ActiveModelT = z.infer<typeof ActiveModel>;
