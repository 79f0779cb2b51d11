// The committed openapi.json is exactly what the zod schemas generate, and it documents every routed path.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_FILE, renderOpenApi, ROUTES } from '../../tools/openapi/openapi';
import { matchRoute } from '../../functions/handlers/api';

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

test('the router resolves each documented path template to its route', () => {
  for (const r of ROUTES) {
    const concrete = r.path.replace(/\{\w+\}/g, '7');
    const m = matchRoute(r.method.toUpperCase(), concrete);
    expect(m).not.toBeNull();
    expect(typeof m === 'object' && m?.route.name).toBe(r.name);
  }
  expect(matchRoute('GET', '/users/7/unknown')).toBeNull();
});
