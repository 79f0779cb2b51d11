// Runs the protocol-v1 reference recommenders (most popular, item-kNN) in TypeScript and prints
// quality.py's table, for cross-checking against ../shared/eval/quality.py:
//
//   node bin/run-ts.js tools/eval-baselines.ts --ratings FILE [--format auto|csv|u.data|dat]
//        [--drop-users 1,2] [--models pop,itemknn,seed] [--emit-split DIR] [--emit-recs DIR] [--json OUT]
//   node bin/run-ts.js tools/eval-baselines.ts --split DIR [...]   # a split quality.py emitted
//   node bin/run-ts.js tools/eval-baselines.ts --split DIR --score recs.csv [...]

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EvalSplit,
  Recommender,
  ScoreResult,
  TableRow,
  formatTable,
  itemKnn,
  readRatingsForEvaluation,
  seedRecommender,
  mostPopular,
  readRecsCsv,
  readSplit,
  runEvaluation,
  scoreRecommendations,
  splitInteractions,
  tableRows,
  writeRecsCsv,
  writeSplit,
} from '../functions/core/evaluate';
import { kmeans } from '../functions/core/kmeans';
import { InputError, RatingsFormat } from '../functions/core/types';

const MODELS: Record<string, Recommender> = {
  pop: mostPopular,
  itemknn: itemKnn({ neighbours: 50 }),
  // the product's seed model (its own K-means engine, SEED_PARAMS: k=15, nInit=10, seed 0, fixClusters 6)
  seed: seedRecommender({ engine: kmeans }),
};

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ratings: { type: 'string' },
      format: { type: 'string', default: 'auto' },
      split: { type: 'string' },
      'drop-users': { type: 'string', default: '' },
      models: { type: 'string', default: 'pop,itemknn' },
      'emit-split': { type: 'string' },
      'emit-recs': { type: 'string' },
      score: { type: 'string', multiple: true },
      json: { type: 'string' },
    },
  });
  const out: Record<string, unknown> = { protocol_version: 1 };
  let split: EvalSplit;
  const t0 = performance.now();
  if (a.ratings) {
    const drop = a['drop-users']!.split(',').filter((s) => s.trim()).map(Number);
    const input = await readRatingsForEvaluation(a.ratings, {
      format: a.format as 'auto' | RatingsFormat,
      dropUsers: drop,
    });
    const data = input.interactions;
    const tLoad = performance.now();
    split = splitInteractions(data, { dropUsers: input.dropUsers });
    const tSplit = performance.now();
    console.log(
      `${resolve(a.ratings)} (${input.report.format}): rows ${input.report.rowsRead} -> ${data.length} accepted` +
        ` (${input.report.rowsRejected} rejected), dropping users [${input.dropUsers.join(', ')}];` +
        ` read ${((tLoad - t0) / 1000).toFixed(2)} s, split ${((tSplit - tLoad) / 1000).toFixed(2)} s`,
    );
    if (a['emit-split']) {
      writeSplit(split, a['emit-split'], { path: resolve(a.ratings), format: input.report.format, rows_raw: input.report.rowsRead, dropped_users: input.dropUsers });
      console.log(`wrote split to ${a['emit-split']}`);
    }
  } else if (a.split) {
    split = readSplit(a.split);
    console.log(`split ${a.split}: read in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  } else {
    throw new InputError('usage', 'Give --ratings FILE (a userId,movieId,rating,timestamp CSV) or --split DIR.');
  }
  console.log('split: ' + Object.entries(split.stats).map(([k, v]) => `${k}=${v}`).join(', '));
  out.split = split.stats;

  const rows: TableRow[] = [];
  const results: Record<string, ScoreResult & { secs?: number }> = {};
  if (a.score) {
    for (const path of a.score) {
      const m = scoreRecommendations(readRecsCsv(path), split);
      results[path] = m;
      rows.push({ name: basename(path), metrics: m, secs: null });
      console.log(
        `${path}: missing users ${m.users_missing}, short lists ${m.short_lists}, train-leak recs ${m.train_leak_recs}, non-train-movie recs ${m.non_train_movie_recs}`,
      );
    }
  } else {
    const names = a.models!.split(',').filter(Boolean);
    for (const name of names) {
      if (!MODELS[name]) throw new InputError('usage', `Unknown model "${name}"; choose from ${Object.keys(MODELS).join(', ')}.`);
    }
    const runs = await runEvaluation(
      split,
      names.map((n) => [n, MODELS[n]] as const),
      {
        keepRecs: false,
        onResult: (run) => {
          if (!a['emit-recs']) return;
          mkdirSync(a['emit-recs'], { recursive: true });
          writeRecsCsv(run.recs, join(a['emit-recs'], `recs_${run.name}.csv`));
        },
      },
    );
    for (const run of runs) results[run.name] = { ...run.metrics, secs: run.secs };
    rows.push(...tableRows(runs));
  }
  out[a.score ? 'scored' : 'models'] = results;
  console.log('\n' + formatTable(rows));
  if (a.json) writeFileSync(a.json, JSON.stringify(out, null, 2) + '\n');
}

main().catch((err: unknown) => {
  if (err instanceof InputError) {
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
