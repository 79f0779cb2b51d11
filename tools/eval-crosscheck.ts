// Regenerates test/fixtures/eval/quality-reference.json by running ../shared/eval/quality.py on the
// evaluation fixtures (needs /usr/bin/python3 with sklearn + pandas):
//   node bin/run-ts.js tools/eval-crosscheck.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUALITY_PY, REFERENCE_JSON, liveQualityReference, qualityPyAvailable } from './eval-crosscheck-lib';

if (!qualityPyAvailable()) {
  console.error(`error: cannot run ${QUALITY_PY}: install python3-sklearn and python3-pandas (apt-get) first.`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'eval-crosscheck-'));
try {
  const ref = liveQualityReference(dir);
  writeFileSync(REFERENCE_JSON, JSON.stringify(ref, null, 2) + '\n');
  for (const [name, f] of Object.entries(ref.fixtures)) {
    console.log(`${name}: ${JSON.stringify(f.split_stats)}`);
    console.log(`  pop ${JSON.stringify(f.models.pop)}\n  itemknn ${JSON.stringify(f.models.itemknn)}\n  scored ${JSON.stringify(f.scored)}`);
  }
  console.log(`wrote ${REFERENCE_JSON}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
