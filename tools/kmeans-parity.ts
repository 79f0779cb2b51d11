// Regenerates test/fixtures/kmeans/sklearn-reference.json from scikit-learn (see kmeans-parity-lib.ts).
//   node bin/run-ts.js tools/kmeans-parity.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveSklearn, parityMatrix, REFERENCE_JSON, sklearnAvailable } from './kmeans-parity-lib';

async function main(): Promise<void> {
  if (!sklearnAvailable()) throw new Error('/usr/bin/python3 lacks scikit-learn (Debian: apt-get install python3-sklearn)');
  const dir = mkdtempSync(join(tmpdir(), 'kmeans-parity-'));
  try {
    const ref = liveSklearn(await parityMatrix(dir), dir);
    writeFileSync(REFERENCE_JSON, JSON.stringify(ref) + '\n');
    for (const c of ref.cases) console.log(`k=${c.k} nInit=${c.nInit} seed=${c.seed} weighted=${c.weighted}: ${c.iterations} iterations, inertia ${c.inertia}`);
    console.log(`wrote ${REFERENCE_JSON} (scikit-learn ${ref.sklearn})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
