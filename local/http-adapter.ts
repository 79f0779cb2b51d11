// API Gateway (REST API, Lambda proxy integration) in front of a handler, over node:http: each request becomes
// an APIGatewayProxyEvent (path, resource template and path parameters, query string, single- and multi-value
// headers, body, requestContext with a fresh requestId), and the handler's result becomes the response.
// The x-api-key check is the handler's own (ApiDeps.apiKey), which the local stack always sets.
import { randomUUID } from 'node:crypto';
import http, { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { EDGE, HttpError, toErrorResponse } from '../functions/api/errors';
import { ROUTES, type RouteDef } from '../functions/api/routes';
import { lambdaContext } from './lambda-context';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's payload limit (10 MB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const STAGE = 'local';

function multiMap(pairs: [string, string][]): { single: Record<string, string>; multi: Record<string, string[]> } | null {
  if (!pairs.length) return null;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of pairs) {
    single[k] = v; // API Gateway keeps the last value in the single-value map
    (multi[k] ??= []).push(v);
  }
  return { single, multi };
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

/** API Gateway's resource matching: the route whose template matches the path (any method — a wrong method
 * still reaches the integration of that resource here, and the handler answers 404), with its path
 * parameters URL-decoded as API Gateway decodes them. A malformed %-escape is an HttpError 400. */
export function matchResource(path: string): { route: RouteDef; params: Record<string, string> } | null {
  for (const c of compiled) {
    const m = c.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    } catch {
      throw EDGE.badPath();
    }
    return { route: c.route, params };
  }
  return null;
}

/** Build the REST proxy event API Gateway would send for this request. */
export function toApiGatewayEvent(
  req: Pick<IncomingMessage, 'method' | 'url' | 'rawHeaders'> & { socket?: { remoteAddress?: string } },
  body: Buffer,
  now: Date = new Date(),
): APIGatewayProxyEvent {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const headerPairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headerPairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const headers = multiMap(headerPairs);
  const query = multiMap([...url.searchParams.entries()]);
  const route = matchResource(path);
  const resource = route?.route.path ?? path;
  const requestId = randomUUID();
  const apiKey = headerPairs.find(([k]) => k.toLowerCase() === 'x-api-key')?.[1] ?? null;
  return {
    resource,
    path,
    httpMethod: method,
    headers: headers?.single ?? {},
    multiValueHeaders: headers?.multi ?? {},
    queryStringParameters: query?.single ?? null,
    multiValueQueryStringParameters: query?.multi ?? null,
    pathParameters: route && Object.keys(route.params).length ? route.params : null,
    stageVariables: null,
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path: `/${STAGE}${path}`,
      stage: STAGE,
      requestId,
      extendedRequestId: requestId,
      requestTime: now.toISOString(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket?.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: headers?.single['User-Agent'] ?? headers?.single['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

/** Write a proxy-integration result as an HTTP response. */
export function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const body = result.body === undefined || result.body === null ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, String(v));
  for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) res.setHeader(k, vs.map(String));
  res.setHeader('content-length', body.length);
  res.writeHead(result.statusCode);
  res.end(body);
}

/** An answer of the adapter itself (what API Gateway would answer before or instead of the integration). */
function sendError(res: ServerResponse, e: HttpError): void {
  writeResult(res, toErrorResponse(e));
}

export interface ApiServerOptions {
  /** called when the handler throws (a proxy integration then answers 502, as API Gateway does) */
  onError?: (e: unknown) => void;
  /** until set, requests get 503 "starting" (the server binds its port before the stack is up) */
  handler?: ApiHandler;
}

export interface ApiServer {
  server: Server;
  setHandler(h: ApiHandler): void;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createApiServer(opts: ApiServerOptions = {}): ApiServer {
  let handler = opts.handler;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) return sendError(res, EDGE.bodyTooLarge(MAX_BODY_BYTES));
      if (!handler) return sendError(res, EDGE.starting());
      let event: APIGatewayProxyEvent;
      try {
        event = toApiGatewayEvent(req, Buffer.concat(chunks));
      } catch (e) {
        if (e instanceof HttpError) return sendError(res, e);
        throw e;
      }
      handler(event, lambdaContext('movierec-local-api', 10_000)).then(
        (result) => writeResult(res, result),
        (e) => {
          opts.onError?.(e);
          sendError(res, EDGE.badGateway());
        },
      );
    });
  });
  // keep-alive sockets must not hold close() open
  server.keepAliveTimeout = 1000;
  return {
    server,
    setHandler: (h) => (handler = h),
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
