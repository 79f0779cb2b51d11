// The training-time flow the Lambda/CLI runs for the taste model, on a whole ratings file:
// read (with timestamps) → matrix → trainRecommender (settings chosen on a hold-out carved from the
// data) → holdoutCheck (the version's own held-out metrics vs most-popular) → publish or refuse.
//
//   node bin/run-ts.js tools/research/train-check.ts --ratings FILE [--algorithm taste|seed]
import { parseArgs } from 'node:util';
import { buildMatrix } from '../../functions/core/matrix';
import { readRatings } from '../../functions/core/ratings';
import { assertPublishable, cellTimes, holdoutCheck, trainRecommender } from '../../functions/core/recommender';

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: { ratings: { type: 'string' }, algorithm: { type: 'string', default: 'taste' } } });
  if (!a.ratings) throw new Error('--ratings FILE is required');
  const t0 = performance.now();
  const { interactions } = await readRatings(a.ratings, { withTimestamps: true });
  const { matrix } = buildMatrix(interactions);
  const times = cellTimes(interactions, matrix);
  const t1 = performance.now();
  const res = await trainRecommender(matrix, { algorithm: a.algorithm as 'seed' | 'taste' }, { times });
  const t2 = performance.now();
  console.log(`read+matrix ${((t1 - t0) / 1000).toFixed(1)} s, train ${((t2 - t1) / 1000).toFixed(1)} s`, res.training.seconds);
  console.log('params', JSON.stringify({ k: res.params.k, taste: res.params.taste }));
  console.log('notes', res.training.notes);
  const rep = await holdoutCheck(matrix, res.params, { times });
  console.log(`check ${((performance.now() - t2) / 1000).toFixed(1)} s`, JSON.stringify(rep, null, 1));
  assertPublishable(rep);
  console.log('publishable');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
