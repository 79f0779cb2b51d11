// The one module that decides every HTTP status of the API: errors thrown by the handler, its middlewares
// and the use cases (the httpErrors middleware), the answers of the local API Gateway adapter
// (local/http-adapter.ts), and API Gateway's own gateway responses (lib/api.ts). Every error body is JSON
// {error, message}.
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ZodError } from 'zod';
import { FavouriteLimitError, NoModelError, UnknownMovieError } from '../app/errors';
import { InputError } from '../core/types';
import { isThrottle } from '../shared/aws-errors';

export class HttpError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export const errorResponse = (statusCode: number, error: string, message: string, headers: Record<string, string> = {}) =>
  jsonResponse(statusCode, { error, message }, headers);

/** Refusals decided before a request reaches the handler: the local adapter answers them itself, API Gateway
 * with its gateway responses. */
export const EDGE = {
  notFound: (method: string, path: string) => new HttpError(404, 'not_found', `No route ${method} ${path}.`),
  missingKey: () => new HttpError(401, 'unauthorized', 'Missing x-api-key header.'),
  badKey: () => new HttpError(403, 'forbidden', 'The x-api-key header is not valid.'),
  badPath: () => new HttpError(400, 'bad_path', 'The request path is not valid URL encoding (a stray "%"?); send ids as plain digits.'),
  bodyTooLarge: (limit: number) => new HttpError(413, 'payload_too_large', `The request body exceeds ${limit} bytes.`),
  headersTooLarge: (limit: number) => new HttpError(431, 'headers_too_large', `The request line and headers exceed ${limit} bytes.`),
  /** the bytes on the connection are not an HTTP request the adapter can read */
  badRequest: () => new HttpError(400, 'bad_request', 'The request is not valid HTTP/1.1 (request line, headers or framing).'),
  requestTimeout: () => new HttpError(408, 'request_timeout', 'The request was not received in time.'),
  starting: () => new HttpError(503, 'starting', 'The local stack is still starting; retry in a moment.', { 'Retry-After': '1' }),
  /** the handler threw outside its error middleware (a proxy integration answers 502) */
  badGateway: () => new HttpError(502, 'bad_gateway', 'Internal server error.'),
};

/** API Gateway's own rejections, in the same {error, message} shape (lib/api.ts turns them into gateway
 * responses; `undefined` keeps API Gateway's status). */
export const GATEWAY_RESPONSES: ReadonlyArray<{ id: string; type: string; statusCode?: number; error: string }> = [
  // unknown routes: API Gateway says 403 "Missing Authentication Token"; the product says 404
  { id: 'NotFound', type: 'MISSING_AUTHENTICATION_TOKEN', statusCode: 404, error: 'not_found' },
  { id: 'BadBody', type: 'BAD_REQUEST_BODY', statusCode: 400, error: 'bad_request' },
  { id: 'BadParams', type: 'BAD_REQUEST_PARAMETERS', statusCode: 400, error: 'bad_request' },
  { id: 'BadKey', type: 'INVALID_API_KEY', statusCode: 403, error: 'forbidden' },
  { id: 'Throttled', type: 'THROTTLED', statusCode: 429, error: 'throttled' },
  { id: 'Quota', type: 'QUOTA_EXCEEDED', statusCode: 429, error: 'quota_exceeded' },
  { id: 'TooLarge', type: 'REQUEST_TOO_LARGE', statusCode: 413, error: 'payload_too_large' },
  { id: 'Default4xx', type: 'DEFAULT_4XX', error: 'client_error' },
  { id: 'Default5xx', type: 'DEFAULT_5XX', error: 'server_error' },
];

function zodMessage(e: ZodError): string {
  const issue = e.issues[0];
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}.`.replace(/\.\.$/, '.');
}

export interface ErrorLog {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

/** Map any thrown error to a response; unknown errors are logged and answered with a bare 500. */
export function toErrorResponse(e: unknown, log?: ErrorLog): APIGatewayProxyResult {
  if (e instanceof HttpError) return errorResponse(e.statusCode, e.code, e.message, e.headers);
  if (e instanceof ZodError) return errorResponse(400, 'validation_error', zodMessage(e));
  if (e instanceof InputError) return errorResponse(400, e.code, e.message);
  // only routing decodes request data: a stray % in the path is the client's error
  if (e instanceof URIError) return toErrorResponse(EDGE.badPath());
  if (e instanceof NoModelError) return errorResponse(503, e.code, e.message, { 'Retry-After': '30' });
  if (e instanceof FavouriteLimitError) return errorResponse(409, e.code, e.message);
  if (e instanceof UnknownMovieError) return errorResponse(404, e.code, e.message);
  const name = (e as { name?: string } | null)?.name;
  // Powertools idempotency: the same key reused for another request, or its first request still running
  if (name === 'IdempotencyValidationError') {
    return errorResponse(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
  }
  if (name === 'IdempotencyAlreadyInProgressError') {
    return errorResponse(409, 'request_in_progress', 'A request with this Idempotency-Key is still running; retry shortly.', { 'Retry-After': '1' });
  }
  // @middy/http-json-body-parser answers a body that is not JSON with 415; it is a malformed request (400)
  const cause = (e as { cause?: { package?: string } } | null)?.cause;
  if (cause?.package === '@middy/http-json-body-parser') {
    return errorResponse(400, 'invalid_json', 'The request body is not valid JSON; send {"movieId": 123}.');
  }
  if (isThrottle(e)) {
    log?.warn('database throttled the request', { error: name });
    return errorResponse(503, 'throttled', 'The database is busy; retry after the Retry-After delay.', { 'Retry-After': '1' });
  }
  log?.error('unhandled error', e as Error);
  return errorResponse(500, 'internal_error', 'Internal error; it has been logged.');
}

/** The one error-mapping middleware. */
export function httpErrors(log?: ErrorLog): MiddlewareObj {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error, log);
    },
  };
}
