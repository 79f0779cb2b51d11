// Every API error becomes JSON {error, message} here and only here (the httpErrors middleware).
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ZodError } from 'zod';
import { InputError } from '../core/types';
import { isThrottle } from '../adapters/aws';
import { FavouriteLimitError } from '../ports';

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

export class NoModelError extends HttpError {
  constructor() {
    super(503, 'no_model', 'No model has been published yet; upload a ratings file to uploads/ and retry.', {
      'Retry-After': '30',
    });
  }
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

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
  if (e instanceof HttpError) return jsonResponse(e.statusCode, { error: e.code, message: e.message }, e.headers);
  if (e instanceof ZodError) return jsonResponse(400, { error: 'validation_error', message: zodMessage(e) });
  if (e instanceof InputError) return jsonResponse(400, { error: e.code, message: e.message });
  // only the router decodes request data with decodeURIComponent: a stray % in the path is the client's error
  if (e instanceof URIError) {
    return jsonResponse(400, { error: 'bad_path', message: 'The request path is not valid URL encoding (a stray "%"?); send ids as plain digits.' });
  }
  if (e instanceof FavouriteLimitError) return jsonResponse(409, { error: e.code, message: e.message });
  if (isThrottle(e)) {
    log?.warn('database throttled the request', { error: (e as Error).name });
    return jsonResponse(
      503,
      { error: 'throttled', message: 'The database is busy; retry after the Retry-After delay.' },
      { 'Retry-After': '1' },
    );
  }
  log?.error('unhandled error', e as Error);
  return jsonResponse(500, { error: 'internal_error', message: 'Internal error; it has been logged.' });
}

/** The one error-mapping middleware. */
export function httpErrors(log?: ErrorLog): MiddlewareObj {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error, log);
    },
  };
}
