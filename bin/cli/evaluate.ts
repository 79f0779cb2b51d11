// `movierec evaluate` (and `npm run evaluate -- …`): offline evaluation, protocol v1 (see EVALUATION.md and
// ../shared/eval/quality.py, which it agrees with to 4 decimals on the same lists).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  defaultRecommender,
  easeRecommender,
  EaseVariant,
  EvalSplit,
  formatTable,
  itemKnn,
  mostPopular,
  readRatingsForEvaluation,
  readRecsCsv,
  readSplit,
  Recommender,
  runEvaluation,
  ScoreResult,
  scoreRecommendations,
  seedRecommender,
  splitInteractions,
  TableRow,
  tableRows,
  writeRecsCsv,
  writeSplit,
} from '../../offline/evaluate';
import { kmeans } from '../../functions/core/kmeans';
import { distributedRecommender } from '../../offline/evaluate/distributed-model';
import { InputError, RatingsFormat } from '../../functions/core/types';
import { parse } from './util';

/** What a model reports about itself besides its lists (e.g. settings it selected); printed under the
 * table and kept in --json. */
export type ModelNote = (details: Record<string, unknown>) => void;

/** EASE^R, one of its two variants; the (λ, half-life) validation grid is scored once per split and
 * printed to stderr like strong_baselines.py prints it. */
function ease(variant: EaseVariant): (note: ModelNote) => Recommender {
  return (note) =>
    easeRecommender(variant, {
      onGridPoint: (p) => console.error(`ease validation: lam=${p.lambda} hl=${p.halfLifeDays} ndcg=${p.ndcg.toFixed(4)}`),
      onSelected: (c) => note({ lambda: c.lambda, half_life_days: c.halfLifeDays, validation_ndcg: c.ndcg }),
    });
}

/** The recommenders `--models` can name, in the table's order; `optional` ones only run when named. */
export const EVAL_MODELS: Record<string, { recommender: (note: ModelNote) => Recommender; summary: string; optional?: boolean }> = {
  pop: { recommender: () => mostPopular, summary: 'most popular unseen movies' },
  seed: {
    recommender: () => seedRecommender({ engine: kmeans }),
    summary: 'the seed algorithm: K-means k=15 n_init=10 seed 0 on binary vectors, fixClusters 6',
  },
  itemknn: { recommender: () => itemKnn({ neighbours: 50 }), summary: 'item-kNN cosine, 50 neighbours (the anchor)' },
  default: {
    recommender: () => defaultRecommender(),
    summary: "the product's default model (CL-EASE): taste clusterings with soft membership, one local EASE matrix per cluster list, settings chosen on TRAIN",
  },
  ease: {
    recommender: ease('plain'),
    summary: 'EASE^R (Steck 2019) on binary rows, λ chosen on the last 20 % of TRAIN (as ../shared/eval/strong_baselines.py)',
    optional: true,
  },
  'ease-recency': {
    recommender: ease('recency'),
    summary: 'EASE^R on recency-weighted rows, λ and half-life chosen on the last 20 % of TRAIN',
    optional: true,
  },
  distributed: {
    recommender: () => distributedRecommender(4),
    summary: 'the default model trained through the training state machine with 4 partitions (offline executor; minutes: ask for it by name)',
    optional: true,
  },
};

/** What --models means when it is not given. */
export const DEFAULT_EVAL_MODELS = Object.keys(EVAL_MODELS).filter((n) => !EVAL_MODELS[n].optional);

export const EVALUATE_HELP = `movierec evaluate --ratings FILE [--format auto|csv|u.data|dat] [--models pop,seed,…] [--drop-users 1,2]
                  [--emit-split DIR] [--emit-recs DIR] [--json OUT]
movierec evaluate --split DIR [--models …] | --split DIR --score recs.csv [recs2.csv …]
  Protocol v1: implicit feedback, users with ≥ 5 interactions, temporal per-user 80/20 hold-out,
  P/R/NDCG/HR/coverage @10. Models: ${Object.keys(EVAL_MODELS).join(', ')} (default: ${DEFAULT_EVAL_MODELS.join(',')}).`;

export async function evaluateCommand(argv: string[]): Promise<void> {
  const a = parse('evaluate', argv, {
    ratings: { type: 'string' },
    format: { type: 'string' },
    split: { type: 'string' },
    'drop-users': { type: 'string' },
    models: { type: 'string' },
    'emit-split': { type: 'string' },
    'emit-recs': { type: 'string' },
    score: { type: 'string', multiple: true },
    json: { type: 'string' },
  });
  const out: Record<string, unknown> = { protocol_version: 1 };
  let split: EvalSplit;
  const t0 = performance.now();
  if (a.ratings) {
    const drop = (a['drop-users'] ?? '').split(',').filter((s) => s.trim()).map(Number);
    const input = await readRatingsForEvaluation(a.ratings, { format: (a.format ?? 'auto') as 'auto' | RatingsFormat, dropUsers: drop });
    split = splitInteractions(input.interactions, { dropUsers: input.dropUsers });
    console.log(
      `${resolve(a.ratings)} (${input.report.format}): ${input.report.rowsRead} rows, ${input.report.rowsRejected} rejected;` +
        ` read + split ${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    out.source = { path: resolve(a.ratings), format: input.report.format, rows: input.report.rowsRead };
    if (a['emit-split']) {
      writeSplit(split, a['emit-split'], { path: resolve(a.ratings), format: input.report.format, rows_raw: input.report.rowsRead, dropped_users: input.dropUsers });
      console.log(`wrote split to ${a['emit-split']}`);
    }
  } else if (a.split) {
    split = readSplit(a.split);
  } else {
    throw new InputError('missing_arg', '--ratings FILE or --split DIR is needed (see: movierec evaluate --help).');
  }
  console.log('split: ' + Object.entries(split.stats).map(([k, v]) => `${k}=${v}`).join(', '));
  out.split = split.stats;

  const rows: TableRow[] = [];
  const results: Record<string, ScoreResult & { secs?: number }> = {};
  const noteLines: string[] = [];
  if (a.score) {
    for (const path of a.score) {
      const m = scoreRecommendations(readRecsCsv(path), split);
      results[path] = m;
      rows.push({ name: basename(path), metrics: m, secs: null });
    }
  } else {
    const names = (a.models ?? DEFAULT_EVAL_MODELS.join(',')).split(',').filter(Boolean);
    for (const n of names) {
      if (!EVAL_MODELS[n]) throw new InputError('bad_arg', `Unknown model "${n}"; choose from ${Object.keys(EVAL_MODELS).join(', ')}.`);
    }
    const notes: Record<string, Record<string, unknown>> = {};
    const runs = await runEvaluation(
      split,
      names.map((n) => [n, EVAL_MODELS[n].recommender((d) => (notes[n] = { ...notes[n], ...d }))] as const),
      {
        keepRecs: false,
        onResult: (run) => {
          console.error(`${run.name}: NDCG@10 ${run.metrics['ndcg@10'].toFixed(4)} (${run.secs.toFixed(2)} s)`);
          if (!a['emit-recs']) return;
          mkdirSync(a['emit-recs'], { recursive: true });
          writeRecsCsv(run.recs, join(a['emit-recs'], `recs_${run.name}.csv`));
        },
      },
    );
    for (const run of runs) results[run.name] = { ...run.metrics, secs: run.secs, ...notes[run.name] };
    rows.push(...tableRows(runs));
    noteLines.push(...Object.entries(notes).map(([n, d]) => `${n}: ${Object.entries(d).map(([k, v]) => `${k}=${v}`).join(', ')}`));
  }
  out[a.score ? 'scored' : 'models'] = results;
  console.log('\n' + formatTable(rows));
  if (noteLines.length) console.log('\n' + noteLines.join('\n'));
  if (a.json) writeFileSync(a.json, JSON.stringify(out, null, 2) + '\n');
}
