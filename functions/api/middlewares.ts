// The API handler's own middlewares: the x-api-key check of the local stack, the per-request metrics, and
// the JSON body parser as the API uses it.
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ModelVersions } from '../ports';
import { HANDLER_METRICS } from '../shared/resources';
import { EDGE } from './errors';

type Event = APIGatewayProxyEvent;

export function requireApiKey(expected: string | undefined): MiddlewareObj<Event> {
  return {
    before: async ({ event }) => {
      if (!expected) return;
      const got = event.headers?.['x-api-key'];
      if (!got) throw EDGE.missingKey();
      const a = Buffer.from(got);
      const b = Buffer.from(expected);
      if (a.length !== b.length || !timingSafeEqual(a, b)) throw EDGE.badKey();
    },
  };
}

/** Per request: its latency, and the age of the model it was answered from (the pointer the request read is
 * still in the store's cache, so this costs no read). */
export function requestMetrics(metrics: Metrics, store: Pick<ModelVersions, 'activeVersion'>, now: () => number): MiddlewareObj<Event> {
  const started = new WeakMap<object, number>();
  return {
    // (a middleware that returns a value ends the request with it: these return nothing)
    before: async (request) => {
      started.set(request, now());
    },
    after: async (request) => {
      metrics.addMetric('latency', MetricUnit.Milliseconds, now() - (started.get(request) ?? now()));
      if (request.event.path === '/health' || request.event.path === '/openapi.json') return;
      const ptr = await store.activeVersion();
      if (ptr) metrics.addMetric(HANDLER_METRICS.modelAgeSeconds, MetricUnit.Seconds, Math.max(0, (now() - Date.parse(ptr.activatedAt)) / 1000));
    },
  };
}

// The body is parsed as JSON whatever its Content-Type says (clients often omit it, and curl -d sends a form
// type): the parser's `disableContentTypeCheck` does that; 6.4's type declarations omit the option its code
// reads, and the handler tests post without a Content-Type, so a parser that stopped honouring it fails them.
export const jsonBody = httpJsonBodyParser({ disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]);
