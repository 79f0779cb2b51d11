// The local S3 (s3rver behind local/emulators.ts) keeps every object inside its data directory: a key or bucket
// with `.` / `..` segments, written plainly or %-encoded, is refused with 400 before s3rver maps it to a file,
// so nothing is written outside the directory and no upload event starts training. The training use case
// ignores such a key as well (a delivered event could still name one in AWS).
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { handleUpload } from '../../functions/app/upload';
import { startStack } from '../support/emulators';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let root: string;
let stack: Awaited<ReturnType<typeof startStack>>;
let port: number;
const events: string[] = [];

beforeAll(async () => {
  // <root>/a/b/data: three levels to climb out of, and a place to look for what escaped
  root = mkdtempSync(path.join(tmpdir(), 'movierec-trav-'));
  stack = await startStack('trav', { persistDir: path.join(root, 'a', 'b', 'data') });
  port = Number(new URL(stack.s3Endpoint).port);
  stack.s3rver.on('event', (e) => events.push(...e.Records.map((r) => (r as { s3: { object: { key: string } } }).s3.object.key)));
});
afterAll(async () => {
  await stack?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** PUT with the path exactly as given (node:http does not normalise it; curl --path-as-is). */
function put(rawPath: string, body = 'userId,movieId\n1,2\n'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: rawPath, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every file under dir (relative paths). */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p).map((f) => path.join(name, f)));
    else out.push(name);
  }
  return out;
}

describe('the local S3 keeps objects inside its data directory', () => {
  test.each([
    ['../ segments', (b: string) => `/${b}/uploads/../../../x.csv`],
    ['%2E%2E/ segments', (b: string) => `/${b}/uploads/%2E%2E/%2E%2E/%2E%2E/x.csv`],
    ['..%2F inside one segment', (b: string) => `/${b}/uploads/..%2F..%2F..%2Fx.csv`],
    ['mixed-case %2e%2E', (b: string) => `/${b}/uploads/%2e%2E/%2e%2E/%2E%2e/%2e%2e/x.csv`],
    ['a ./ segment', (b: string) => `/${b}/uploads/./x.csv`],
    ['a bucket of ..', () => `/..%2F..%2Fescaped/uploads/x.csv`],
    ['a malformed escape', (b: string) => `/${b}/uploads/%E0%A4%A.csv`],
  ])('%s: 400, nothing written outside, no upload event', async (_name, make) => {
    const before = files(root);
    const r = await put(make(stack.bucket));
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/<Code>InvalidArgument<\/Code>|<Code>InvalidURI<\/Code>/);
    expect(files(root)).toEqual(before);
    expect(existsSync(path.join(root, 'x.csv'))).toBe(false);
    expect(events).toEqual([]);
  });

  test('a plain key is stored and announced, and a key with dots inside a name is an ordinary key', async () => {
    expect((await put(`/${stack.bucket}/uploads/ok.csv`)).status).toBe(200);
    expect((await put(`/${stack.bucket}/uploads/a..b.csv`)).status).toBe(200);
    expect(events).toEqual(['uploads/ok.csv', 'uploads/a..b.csv']);
    expect(files(root).filter((f) => !f.startsWith(path.join('a', 'b', 'data') + path.sep))).toEqual([]);
    expect(files(root)).toContain(path.join('a', 'b', 'data', 's3', stack.bucket, 'uploads', 'ok.csv._S3rver_object'));
  });
});

describe('the training use case', () => {
  test.each(['uploads/../x.csv', 'uploads/../../reports/x.csv', 'uploads/./x.csv', 'uploads/a/../../x.csv'])(
    '%s: ignored — never opened, trained or reported',
    async (key) => {
      const touched: string[] = [];
      const never = (what: string) => async () => {
        touched.push(what);
        throw new Error(`${what} must not be called`);
      };
      const r = await handleUpload(
        {
          source: { open: never('open') },
          store: { checkPublishable: never('checkPublishable') } as never,
          reports: { putJson: never('putJson') },
          train: never('train'),
        },
        { bucket: 'b', key },
      );
      expect(r.status).toBe('ignored');
      expect(r.code).toBe('unsafe_key');
      expect(touched).toEqual([]);
    },
  );
});
