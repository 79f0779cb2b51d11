// API Gateway (REST API, Lambda proxy integration) in front of a handler, over node:http: each request becomes
// an APIGatewayProxyEvent (path, resource template and path parameters, query string, single- and multi-value
// headers, body, requestContext with a fresh requestId), and the handler's result becomes the response.
// The x-api-key check is the handler's own (ApiDeps.apiKey), which the local stack always sets.
import { randomUUID } from 'node:crypto';
import http, { IncomingMessage, Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { EDGE, HttpError, toErrorResponse } from '../functions/api/errors';
import { ROUTES, type RouteDef } from '../functions/api/routes';
import { lambdaContext } from './lambda-context';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's payload limit (10 MB). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's limit on the request line and headers together (10 KB); node:http counts the header
 * bytes only, so this is a little more generous than API Gateway. */
export const MAX_HEADER_BYTES = 10 * 1024;
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

/** The path and query string of a request target, as sent (nothing decoded, dot segments kept). Only the
 * absolute form (`GET http://host/p`) goes through the URL parser: `new URL('//[', base)` throws, and a
 * target such as `//host/p` would otherwise be read as a host name. */
export function splitTarget(target: string): { path: string; search: string } {
  let t = target;
  if (!t.startsWith('/') && /^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    try {
      const u = new URL(t);
      t = u.pathname + u.search;
    } catch {
      throw EDGE.badRequest();
    }
  }
  const q = t.indexOf('?');
  return q < 0 ? { path: t, search: '' } : { path: t.slice(0, q), search: t.slice(q + 1) };
}

/** Build the REST proxy event API Gateway would send for this request. */
export function toApiGatewayEvent(
  req: Pick<IncomingMessage, 'method' | 'url' | 'rawHeaders'> & { socket?: { remoteAddress?: string } },
  body: Buffer,
  now: Date = new Date(),
): APIGatewayProxyEvent {
  const method = (req.method ?? 'GET').toUpperCase();
  const { path, search } = splitTarget(req.url ?? '/');
  const headerPairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headerPairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const headers = multiMap(headerPairs);
  const query = multiMap([...new URLSearchParams(search).entries()]);
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
function sendError(res: ServerResponse, e: HttpError, close = false): void {
  if (res.headersSent || res.destroyed) return;
  if (close) res.setHeader('connection', 'close');
  writeResult(res, toErrorResponse(e));
}

/** The same answer written straight to a socket, for requests node:http could not parse (no response
 * object exists for them); the connection is closed after it. */
function rawErrorResponse(e: HttpError): string {
  const r = toErrorResponse(e);
  const body = Buffer.from(r.body, 'utf8');
  const head = [`HTTP/1.1 ${r.statusCode} ${STATUS_CODES[r.statusCode] ?? 'Error'}`, `Content-Length: ${body.length}`, 'Connection: close'];
  for (const [k, v] of Object.entries(r.headers ?? {})) head.push(`${k}: ${String(v)}`);
  return head.join('\r\n') + '\r\n\r\n' + body.toString('utf8');
}

/** An error thrown while turning a request into an event: a refusal of the adapter (HttpError) or a bug,
 * answered 500 and reported; never rethrown. */
function answerThrown(res: ServerResponse, e: unknown, onError?: (e: unknown) => void): void {
  if (!(e instanceof HttpError)) onError?.(e);
  if (res.headersSent || res.destroyed) return;
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
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    // nothing a request carries may throw out of here: an exception in this callback would end the process,
    // and with it S3, DynamoDB and a running training
    req.on('error', () => undefined); // an aborted upload: the socket is gone, nothing to answer
    try {
      const declared = Number(req.headers['content-length']);
      if (declared > MAX_BODY_BYTES) return sendError(res, EDGE.bodyTooLarge(MAX_BODY_BYTES), true);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) return void chunks.push(c);
        // answer at once and stop reading: a body past the limit is never buffered nor waited for
        req.pause();
        sendError(res, EDGE.bodyTooLarge(MAX_BODY_BYTES), true);
      });
      req.on('end', () => {
        if (size > MAX_BODY_BYTES || res.headersSent) return;
        try {
          if (!handler) return sendError(res, EDGE.starting());
          const event = toApiGatewayEvent(req, Buffer.concat(chunks));
          handler(event, lambdaContext('movierec-local-api', 10_000)).then(
            (result) => {
              try {
                writeResult(res, result);
              } catch (e) {
                // a result node:http cannot write (e.g. a header value with a newline): the handler's fault
                opts.onError?.(e);
                sendError(res, EDGE.badGateway());
              }
            },
            (e) => {
              opts.onError?.(e);
              sendError(res, EDGE.badGateway());
            },
          );
        } catch (e) {
          answerThrown(res, e, opts.onError);
        }
      });
    } catch (e) {
      answerThrown(res, e, opts.onError);
    }
  });
  // Requests node:http rejects before any handler runs (bad request line, bad header bytes, headers past
  // the limit, a timeout) get the same JSON shape as every other refusal, instead of node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const e =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? EDGE.headersTooLarge(MAX_HEADER_BYTES)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? EDGE.requestTimeout()
          : EDGE.badRequest();
    socket.end(rawErrorResponse(e));
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
