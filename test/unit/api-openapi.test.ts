// The committed openapi.json is exactly what the zod schemas generate, and it documents every routed path.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_FILE, renderOpenApi, ROUTES } from '../../tools/openapi/openapi';
import { makeHandler } from '../../functions/handlers/api';
import { EXAMPLE_USERS, exampleCluster, makeSnapshot } from '../support/model-fixtures';
import { apiEvent, FakeStore, lambdaContext, MemoryIdempotency, quietMetrics, silentLogger } from './handlers-fakes';

const committed = readFileSync(path.join(__dirname, '../..', OPENAPI_FILE), 'utf8');
const doc = JSON.parse(committed) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

test('openapi.json equals the generated document (regenerate: npm run openapi)', () => {
  expect(committed).toBe(renderOpenApi());
});

test('every route the handler serves is in the document, with its error responses', () => {
  for (const r of ROUTES) {
    const op = doc.paths[r.path]?.[r.method];
    expect(op).toBeDefined();
    for (const s of [...r.errors, 500]) expect(op.responses[String(s)]).toBeDefined();
  }
  // and the document has nothing the router does not serve
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
  expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
});

test('the router resolves each documented path template to its route', async () => {
  const store = new FakeStore();
  store.load(makeSnapshot(EXAMPLE_USERS, exampleCluster).snapshot);
  const h = makeHandler({ store, idempotency: new MemoryIdempotency(), logger: silentLogger(), metrics: quietMetrics() });
  const call = (method: string, path: string) =>
    h(apiEvent(method, path, method === 'POST' ? { body: '{"movieId": 100}' } : {}), lambdaContext);
  for (const r of ROUTES) {
    // movie 100 is in the example's lists (so it has similar movies); any user id is served
    const res = await call(r.method.toUpperCase(), r.path.replace('{movieId}', '100').replace(/\{\w+\}/g, '7'));
    expect([r.name, res.statusCode]).toEqual([r.name, 200]);
  }
  expect((await call('GET', '/users/7/unknown')).statusCode).toBe(404);
});
