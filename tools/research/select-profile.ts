// Where does the taste model's selection spend its time? Runs selectTaste (the coordinate search) with
// the K-means time measured apart, and prints the selected settings and the number of scored settings.
//
//   node bin/run-ts.js tools/research/select-profile.ts --ratings FILE [--n-init 1]
//        [--max-validation-users 2000]
import { parseArgs } from 'node:util';
import { kmeans } from '../../functions/core/kmeans';
import { buildMatrix } from '../../functions/core/matrix';
import { readRatings } from '../../functions/core/ratings';
import { cellTimes, resolveParams, selectTaste } from '../../functions/core/recommender';
import { KMeansEngine } from '../../functions/core/types';

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ratings: { type: 'string' },
      'n-init': { type: 'string' },
      'max-validation-users': { type: 'string', default: '2000' },
    },
  });
  if (!a.ratings) throw new Error('--ratings FILE is required');
  const { interactions } = await readRatings(a.ratings, { withTimestamps: true });
  const { matrix: x } = buildMatrix(interactions);
  const times = cellTimes(interactions, x);
  {
    const p = resolveParams(a['n-init'] ? { nInit: Number(a['n-init']) } : {});
    let kmeansSeconds = 0;
    const engine: KMeansEngine = async (m, o) => {
      const t = performance.now();
      const r = await kmeans(m, o);
      kmeansSeconds += (performance.now() - t) / 1000;
      return r;
    };
    const t0 = performance.now();
    const s = await selectTaste(x, p, { times, engine, maxValidationUsers: Number(a['max-validation-users']) });
    const total = (performance.now() - t0) / 1000;
    console.log(
      `coordinate: ${total.toFixed(2)} s (k-means ${kmeansSeconds.toFixed(2)} s), ${s.rows.length} settings scored on ${s.users} users → k=${s.k} T=${s.temperature} halfLife=${s.halfLife}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
