// The product's default model (the taste recommender) as a Recommender, trained on TRAIN only, with the
// TRAIN timestamps (recency weighting) exactly as the training Lambda trains it on an upload.
import { cellTimes, recommendFor, RecommenderOverrides, trainRecommender } from '../../functions/core/recommender';
import { Recommendations, Recommender } from '../../functions/core/evaluate/score';

export function defaultRecommender(overrides: RecommenderOverrides = {}): Recommender {
  return async (split, k) => {
    const times = cellTimes(split.train, split.trainMatrix);
    const { model } = await trainRecommender(split.trainMatrix, { algorithm: 'taste', ...overrides }, { times });
    const recs: Recommendations = new Map();
    for (const u of split.userIds) recs.set(u, recommendFor(model, u, { n: k }).items.map((i) => i.movieId));
    return recs;
  };
}
