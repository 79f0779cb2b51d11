// Hostile HTTP/1.1 requests as raw bytes, and a raw client that sends them over a plain socket and reads the
// answer back: what a careless or hostile client can put on the wire without an HTTP library tidying it first
// (arbitrary bytes and %-escapes in the path, dot segments, huge or odd headers, bodies of any bytes, chunked
// framing). Used by the property test of the local API adapter and by bench/hostile.ts (10,000 of them
// against `movierec local`).
import net from 'node:net';
import fc from 'fast-check';

export interface HostileRequest {
  method: string;
  /** the request target exactly as written on the request line */
  target: Buffer;
  headers: Array<[string, Buffer]>;
  body: Buffer;
  chunked: boolean;
  /** which x-api-key to send: none, a wrong one or the right one */
  key: 'none' | 'wrong' | 'right';
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const WORDS = ['users', 'movies', 'recommendations', 'models', 'active', 'health', 'openapi.json', '1', '318', '0', '-1'];
const ESCAPES = ['%', '%E0%A4%A', '%2F', '%2E%2E', '%00', '%zz', '%%', '%C0%AF', '%FF', '%20', '%u0041', '..', '.', ''];

/** A path segment: a route word, an escape, printable text, or raw bytes (never CR or LF, which would end the
 * request line: the framing tests write those on purpose). */
const segment = fc.oneof(
  fc.constantFrom(...WORDS).map((w) => Buffer.from(w)),
  fc.constantFrom(...ESCAPES).map((w) => Buffer.from(w)),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => Buffer.from(s.replace(/[\r\n]/g, ''), 'utf8')),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a.filter((b) => b !== 10 && b !== 13))),
  fc.nat({ max: 2 ** 53 + 10 }).map((n) => Buffer.from(String(n))),
);

const target = fc
  .tuple(
    fc.array(segment, { minLength: 0, maxLength: 6 }),
    fc.option(fc.array(fc.tuple(fc.constantFrom('n', 'offset', 'x', '', '%'), segment), { maxLength: 4 }), { nil: undefined }),
    fc.constantFrom('/', '//', 'http://h/', '*', ''),
  )
  .map(([segs, query, lead]) => {
    const parts: Buffer[] = [Buffer.from(lead)];
    segs.forEach((s, i) => parts.push(i ? Buffer.from('/') : Buffer.alloc(0), s));
    if (query) {
      parts.push(Buffer.from('?'));
      query.forEach(([k, v], i) => parts.push(Buffer.from(`${i ? '&' : ''}${k}=`), v));
    }
    const t = Buffer.concat(parts);
    return t.length ? t : Buffer.from('/');
  });

/** Header names that change the framing of the exchange are written by the client itself. */
const FRAMING = /^(content-length|transfer-encoding|connection|expect|upgrade|host|x-api-key)$/i;

const header = fc.tuple(
  fc.oneof(
    fc.constantFrom('content-type', 'idempotency-key', 'origin', 'accept', 'user-agent', 'x-forwarded-for', 'cookie'),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/),
  ),
  fc.oneof(
    fc.constantFrom('application/json', 'text/plain', '', '*', 'a'.repeat(200)).map((v) => Buffer.from(v)),
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a.filter((b) => b !== 10 && b !== 13 && b !== 0))),
    // past the adapter's 10 KB limit now and then (431)
    fc.integer({ min: 1, max: 24 * 1024 }).map((n) => Buffer.alloc(n, 'h')),
  ),
);

const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.constantFrom('{"movieId": 318}', '{"movieId": -1}', '{"movieId": 1e400}', '{', 'null', '[]', '{"movieId": "1"}').map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
  fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)),
);

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'BREW', 'get'),
  target,
  headers: fc.array(header, { maxLength: 6 }).map((hs) => hs.filter(([k]) => !FRAMING.test(k))),
  body,
  chunked: fc.boolean(),
  key: fc.constantFrom<HostileRequest['key']>('none', 'wrong', 'right'),
});

/** The bytes of one request; it always ends the connection after the answer (Connection: close). */
export function encodeRequest(r: HostileRequest, apiKey: string): Buffer {
  const lines: Buffer[] = [Buffer.from(`${r.method} `), r.target, Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\n')];
  if (r.key !== 'none') lines.push(Buffer.from(`x-api-key: ${r.key === 'right' ? apiKey : 'not-the-key'}\r\n`));
  for (const [k, v] of r.headers) lines.push(Buffer.from(`${k}: `), v, Buffer.from('\r\n'));
  if (r.chunked) {
    lines.push(Buffer.from('Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n'));
    if (r.body.length) lines.push(Buffer.from(`${r.body.length.toString(16)}\r\n`), r.body, Buffer.from('\r\n'));
    lines.push(Buffer.from('0\r\n\r\n'));
  } else {
    lines.push(Buffer.from(`Content-Length: ${r.body.length}\r\nConnection: close\r\n\r\n`), r.body);
  }
  return Buffer.concat(lines);
}

/** Send raw bytes, read until the server closes the connection, parse the (last non-1xx) answer. `null` when
 * nothing came back before the timeout or the connection was refused. */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawAnswer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(parseAnswer(Buffer.concat(chunks)));
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('data', (d) => chunks.push(d));
    // the server may answer (413, 431, 400) and close before it read everything: EPIPE / ECONNRESET on our side
    s.on('error', done);
    s.on('close', done);
    s.write(bytes, () => undefined);
  });
}

/** Parse an HTTP/1.1 response (Content-Length or close-delimited; 1xx interim answers skipped). */
export function parseAnswer(buf: Buffer): RawAnswer | null {
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) return null;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const after = rest.subarray(end + 4);
    if (status >= 100 && status < 200) {
      rest = after;
      continue;
    }
    const len = headers['content-length'] === undefined ? after.length : Number(headers['content-length']);
    return { status, headers, body: after.subarray(0, len) };
  }
}

/** What every answer to a hostile request must be: JSON (no body only for HEAD), `{error, message}` strings on
 * a 4xx/5xx, and no 5xx at all (nothing a client sends is the server's fault). Returns the broken rule or null. */
export function checkAnswer(r: HostileRequest, a: RawAnswer | null): string | null {
  if (!a) return 'no answer';
  if (a.status >= 500) return `status ${a.status}: ${a.body.toString('utf8').slice(0, 200)}`;
  if (!(a.headers['content-type'] ?? '').startsWith('application/json')) return `content-type ${a.headers['content-type']}`;
  if (r.method === 'HEAD' && a.body.length === 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `body is not JSON: ${a.body.toString('utf8').slice(0, 200)}`;
  }
  if (a.status >= 400) {
    const e = json as { error?: unknown; message?: unknown };
    if (typeof e?.error !== 'string' || typeof e?.message !== 'string') return `error body ${JSON.stringify(json).slice(0, 200)}`;
  } else if (r.key !== 'right') {
    return `status ${a.status} without the right key`;
  }
  return null;
}
