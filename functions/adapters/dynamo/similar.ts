// Each version's similar movies (core similarIndex, written by the publish): one item per movie, read with one
// GetItem (eventually consistent: the item is immutable once its version is live).
import type { SimilarItem } from '../../core/similar';
import type { SimilarStore } from '../../ports';
import type { DynamoContext } from './context';
import { keys, unpackFloats, unpackInts } from './layout';

export class DynamoSimilar implements SimilarStore {
  constructor(private readonly db: DynamoContext) {}

  async getSimilar(version: string, movieId: number): Promise<SimilarItem[] | null> {
    const item = await this.db.get(this.db.clustersTable, keys.similar(version, movieId));
    if (!item) return null;
    const ids = unpackInts(item.m as string | undefined);
    const scores = unpackFloats(item.w as string | undefined);
    return ids.map((m, i) => ({ movieId: m, score: scores[i] }));
  }
}
