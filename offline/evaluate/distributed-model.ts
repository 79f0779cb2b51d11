// The product's default model trained through the training state machine (offline executor, N partitions)
// instead of in one process: `movierec evaluate --models default,distributed` puts the two side by side.
// The TRAIN split is written as a ratings CSV (user, movie, timestamp) and uploaded, as an upload would be.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recommendFor } from '../../functions/core/recommender';
import type { RecommenderOverrides } from '../../functions/core/recommender';
import { trainDistributed } from '../../local/train-distributed';
import type { Recommendations, Recommender } from '../../functions/core/evaluate/score';

export function distributedRecommender(shards: number, overrides: RecommenderOverrides = {}): Recommender {
  return async (split, k) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'movierec-eval-'));
    try {
      const t = split.train;
      const lines = ['userId,movieId,rating,timestamp'];
      for (let i = 0; i < t.length; i++) {
        const ts = t.timestamps ? t.timestamps[i] : NaN;
        lines.push(`${t.userIds[t.users[i]]},${t.movieIds[t.movies[i]]},1,${Number.isFinite(ts) ? ts : ''}`);
      }
      const file = path.join(dir, 'train.csv');
      writeFileSync(file, lines.join('\n') + '\n');
      const { model } = await trainDistributed(file, { algorithm: 'taste', ...overrides }, { shards, check: false, quiet: true });
      const recs: Recommendations = new Map();
      for (const u of split.userIds) recs.set(u, recommendFor(model, u, { n: k }).items.map((i) => i.movieId));
      return recs;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
