// Writes openapi.json at the repo root from the zod schemas: `npm run openapi` (= node bin/run-ts.js
// tools/openapi/write-openapi.ts). The API handler serves that committed file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPENAPI_FILE, renderOpenApi } from './openapi';

const out = path.resolve(process.argv[2] ?? OPENAPI_FILE);
writeFileSync(out, renderOpenApi());
console.log(`wrote ${out}`);
