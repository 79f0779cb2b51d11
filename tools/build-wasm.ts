// Regenerates functions/core/kmeans/simd-wasm.ts from tools/wasm/simd.wat: `npm run build:wasm`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileWat, OUT, renderTs } from './wasm-lib';

async function main(): Promise<void> {
  const bytes = await compileWat();
  writeFileSync(OUT, renderTs(bytes));
  console.log(`wrote ${path.relative(process.cwd(), OUT)} (${bytes.length} bytes of WebAssembly)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
