// EASE^R against ../shared/eval/strong_baselines.py (needs /usr/bin/python3 with numpy, scipy, pandas
// and scikit-learn for quality.py):
//   node bin/run-ts.js tools/ease-crosscheck.ts
//       regenerates test/fixtures/eval/ease-reference.json from the two small generated fixtures;
//   node bin/run-ts.js tools/ease-crosscheck.ts --ratings ../shared/datasets/ml-latest-small/ratings.csv [--keep DIR]
//       quality.py's split of the file, strong_baselines.py on it, ease.ts on the same split; prints both
//       grids, the chosen settings, how many users' lists differ, and quality.py's scores of both sides'
//       lists. Exit code 1 when a metric differs at 4 decimals. With --keep DIR the work files stay in
//       DIR, and a second run with the same DIR reuses strong_baselines.py's outputs found there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { easeRecommender, EaseGridPoint, readRecsCsv, readSplit, scoreRecommendations, writeRecsCsv } from '../offline/evaluate';
import { METRICS, PYTHON, QUALITY_PY, sha256 } from './eval-crosscheck-lib';
import {
  EASE_REFERENCE_JSON,
  PyVariant,
  STRONG_BASELINES_PY,
  VARIANTS,
  liveEaseReference,
  qualityScores,
  runStrongBaselines,
  strongBaselinesAvailable,
} from './ease-crosscheck-lib';
import { execFileSync } from 'node:child_process';

async function compareOnFile(ratings: string, dir: string, reuse: boolean): Promise<number> {
  const split = join(dir, 'split');
  execFileSync(PYTHON, [QUALITY_PY, '--ratings', ratings, '--emit-split', split, '--models', ''], { stdio: 'ignore' });
  let t0 = performance.now();
  const py = runStrongBaselines(split, join(dir, 'py'), reuse);
  const pySecs = (performance.now() - t0) / 1000;
  console.log(`strong_baselines.py: ${pySecs.toFixed(1)} s wall${reuse ? ' (0 when its outputs in --keep were reused)' : ''}; ${JSON.stringify(py.models)}`);

  const s = readSplit(split);
  const grid: EaseGridPoint[] = [];
  const chosen: Partial<Record<PyVariant, EaseGridPoint>> = {};
  t0 = performance.now();
  for (const v of Object.keys(VARIANTS) as PyVariant[]) {
    const rec = easeRecommender(v === 'ease' ? 'plain' : 'recency', {
      onGridPoint: (p) => grid.push(p),
      onSelected: (c) => (chosen[v] = c),
    });
    writeRecsCsv(await rec(s, 10), join(dir, `ts_${v}.csv`));
  }
  const tsSecs = (performance.now() - t0) / 1000;
  console.log(`ease.ts: ${tsSecs.toFixed(1)} s wall (grid + both variants), process CPU ${(process.cpuUsage().user / 1e6).toFixed(1)} s\n`);

  console.log('validation NDCG@10   λ  half-life  strong_baselines.py  ease.ts');
  grid.forEach((p, i) => {
    const q = py.grid[i];
    const mark = q && q.ndcg.toFixed(4) === p.ndcg.toFixed(4) ? '' : '  <-- differs';
    console.log(`${String(p.lambda).padStart(22)} ${String(p.halfLifeDays).padStart(10)} ${q?.ndcg.toFixed(4).padStart(20)} ${p.ndcg.toFixed(4).padStart(8)}${mark}`);
  });

  let bad = 0;
  const pyScored = qualityScores(split, join(dir, 'py'), dir);
  const tsScored = qualityScores(split, join(dir, 'ts'), dir);
  for (const v of Object.keys(VARIANTS) as PyVariant[]) {
    const c = chosen[v]!;
    const pm = py.models[v];
    console.log(`\n${v}: strong_baselines.py λ=${pm.lambda} half-life ${pm.half_life_days}; ease.ts λ=${c.lambda} half-life ${c.halfLifeDays}`);
    const a = readRecsCsv(join(dir, `py_${v}.csv`));
    const b = readRecsCsv(join(dir, `ts_${v}.csv`));
    let lists = 0;
    let sets = 0;
    for (const [u, l] of a) {
      const o = b.get(u) ?? [];
      if (l.join() !== o.join()) lists++;
      if ([...l].sort().join() !== [...o].sort().join()) sets++;
    }
    const same = sha256(join(dir, `py_${v}.csv`)) === sha256(join(dir, `ts_${v}.csv`));
    console.log(`  lists differing: ${lists} of ${a.size} users (${sets} as sets); files ${same ? 'byte-identical' : 'differ'}`);
    const mine = scoreRecommendations(b, s);
    for (const k of METRICS) {
      const same = pyScored[v][k].toFixed(4) === tsScored[v][k].toFixed(4) && mine[k].toFixed(4) === tsScored[v][k].toFixed(4);
      if (!same) bad++;
      console.log(
        `  ${k.padEnd(13)} quality.py on strong_baselines' lists ${pyScored[v][k].toFixed(4)}, on ease.ts' ${tsScored[v][k].toFixed(4)}; evaluate ${mine[k].toFixed(4)}${same ? '' : '  <-- differs'}`,
      );
    }
  }
  return bad;
}

async function main(): Promise<void> {
  const a = parseArgs({ options: { ratings: { type: 'string' }, keep: { type: 'string' } } }).values;
  if (!strongBaselinesAvailable()) {
    console.error(`error: cannot run ${STRONG_BASELINES_PY} and ${QUALITY_PY} with ${PYTHON}: it needs numpy, scipy, pandas and scikit-learn.`);
    process.exit(1);
  }
  const dir = a.keep ?? mkdtempSync(join(tmpdir(), 'ease-crosscheck-'));
  try {
    if (a.ratings) {
      const bad = await compareOnFile(a.ratings, dir, a.keep !== undefined);
      if (bad) {
        console.error(`\n${bad} metric(s) differ at 4 decimals.`);
        process.exitCode = 1;
      }
      return;
    }
    const ref = liveEaseReference(dir);
    writeFileSync(EASE_REFERENCE_JSON, JSON.stringify(ref, null, 2) + '\n');
    for (const [name, f] of Object.entries(ref.fixtures)) console.log(`${name}: ${JSON.stringify(f.models)}`);
    console.log(`wrote ${EASE_REFERENCE_JSON}`);
  } finally {
    if (!a.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
