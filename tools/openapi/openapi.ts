// The OpenAPI 3 document generated from the route table (routes.ts) and the zod schemas with their `.meta()`.
// Build-time only: `npm run openapi` (tools/openapi/write-openapi.ts) writes openapi.json, the handler serves
// that committed file, and a test checks that it equals generateOpenApi() and that every routed path is in it.
// Never import this module from a handler: zod-to-openapi would land in the Lambda bundle.
import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { ZodType } from 'zod';
import { ROUTES } from '../../functions/api/routes';
import { ErrorBody } from '../../functions/api/schemas';

export { ROUTES, type RouteDef, type RouteName } from '../../functions/api/routes';

const json = (schema: ZodType) => ({ content: { 'application/json': { schema } } });

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid id, parameter or body',
  401: 'missing x-api-key',
  403: 'wrong x-api-key',
  404: 'unknown route, or a movie the active model does not know',
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
      request: r.request && {
        params: r.request.params,
        query: r.request.query,
        headers: r.request.headers,
        body: r.request.body && { ...json(r.request.body), required: true },
      },
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
