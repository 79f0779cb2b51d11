// Protocol-v1 evaluation of the product's recommenders in TypeScript: most popular, the seed
// algorithm and the taste model (functions/core/recommender), trained on TRAIN only. The taste
// model's settings are chosen inside TRAIN (a hold-out carved from it), never on TEST.
//
//   node bin/run-ts.js tools/research/taste-eval.ts --ratings FILE [--seeds 0,1,2,3,4]
//        [--algorithms pop,seed,taste] [--k 50 --temperature 0.2] [--ensemble 2] [--no-select]
//        [--no-times] [--search-rounds N]
//        [--select-n-init N] [--emit-recs DIR] [--json OUT]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  formatTable,
  mostPopularSync,
  Recommendations,
  scoreRecommendations,
  splitInteractions,
  TableRow,
  writeRecsCsv,
} from '../../offline/evaluate';
import { readRatingsForEvaluation } from '../../offline/evaluate/load';
import { cellTimes, recommendFor, RecommenderOverrides, trainRecommender } from '../../functions/core/recommender';

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ratings: { type: 'string' },
      seeds: { type: 'string', default: '0' },
      algorithms: { type: 'string', default: 'pop,seed,taste' },
      k: { type: 'string' },
      temperature: { type: 'string' },
      ensemble: { type: 'string' },
      'no-select': { type: 'boolean', default: false },
      // rounds of the coordinate search
      'search-rounds': { type: 'string' },
      // K-means restarts per clustering while selecting (the final model uses nInit)
      'select-n-init': { type: 'string' },
      // hide the TRAIN timestamps from the model (as for a userId,movieId file): no recency weighting
      'no-times': { type: 'boolean', default: false },
      'emit-recs': { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (!a.ratings) throw new Error('--ratings FILE is required');
  const input = await readRatingsForEvaluation(a.ratings, {});
  const split = splitInteractions(input.interactions, { dropUsers: input.dropUsers });
  const times = a['no-times'] ? undefined : cellTimes(split.train, split.trainMatrix);
  console.log('split: ' + Object.entries(split.stats).map(([k, v]) => `${k}=${v}`).join(', '));
  const rows: TableRow[] = [];
  const out: Record<string, unknown> = {};
  const emit = (name: string, recs: Recommendations) => {
    if (!a['emit-recs']) return;
    mkdirSync(a['emit-recs'], { recursive: true });
    writeRecsCsv(recs, join(a['emit-recs'], `recs_${name}.csv`));
  };
  for (const alg of a.algorithms!.split(',')) {
    if (alg === 'pop') {
      const t = performance.now();
      const recs = mostPopularSync(split, 10);
      const m = scoreRecommendations(recs, split);
      rows.push({ name: 'most popular', metrics: m, secs: (performance.now() - t) / 1000 });
      out.pop = m;
      emit('pop', recs);
      continue;
    }
    for (const seed of a.seeds!.split(',').map(Number)) {
      const t = performance.now();
      const o: RecommenderOverrides = { algorithm: alg as 'seed' | 'taste', randomState: seed };
      if (alg === 'taste') {
        o.taste = {};
        if (a.k) o.taste.k = Number(a.k);
        if (a.temperature) o.taste.temperature = Number(a.temperature);
        if (a.ensemble) o.taste.ensemble = Number(a.ensemble);
        if (a['no-select']) o.taste.select = false;
        if (a['search-rounds']) o.taste.searchRounds = Number(a['search-rounds']);
        if (a['select-n-init']) o.taste.selectNInit = Number(a['select-n-init']);
      }
      const res = await trainRecommender(split.trainMatrix, o, { times });
      const recs: Recommendations = new Map();
      for (const u of split.userIds) recs.set(u, recommendFor(res.model, u, { n: 10 }).items.map((i) => i.movieId));
      const m = scoreRecommendations(recs, split);
      const secs = (performance.now() - t) / 1000;
      const name = `${alg} seed=${seed}` + (alg === 'taste' ? ` k=${res.params.taste.k} T=${res.params.taste.temperature} hl=${res.params.taste.halfLife}` : '');
      rows.push({ name, metrics: m, secs });
      out[name] = { metrics: m, secs, training: res.training };
      emit(`${alg}_${seed}`, recs);
      console.log(`${name}: ndcg ${m['ndcg@10'].toFixed(4)} cov ${m['coverage@10'].toFixed(4)} (${secs.toFixed(1)} s)`);
      if (alg === 'taste' && res.training.taste) {
        const sel = (res.training.taste as { selection?: { rows: unknown[] } }).selection;
        if (sel) console.log(`  selection (${sel.rows.length} settings): ` + JSON.stringify(sel.rows));
      }
    }
  }
  console.log('\n' + formatTable(rows));
  if (a.json) writeFileSync(a.json, JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
