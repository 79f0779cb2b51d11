// The durable favourite records in the users table (fav#<user mod FAV_SHARDS> / u#<user>#m#<movie>),
// version-independent: every publish folds them into the new version, and replays those recorded while
// it was writing.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FavouriteLog, FavouriteRecord } from '../../ports';
import { isConditionalFailure } from '../aws';
import type { DynamoContext } from './context';
import { FAV_SHARDS, keys } from './layout';

export class DynamoFavouriteLog implements FavouriteLog {
  constructor(private readonly db: DynamoContext) {}

  async recordFavourite(userId: number, movieId: number, at: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.db.usersTable,
          Item: { ...keys.fav(userId, movieId), userId, movieId, at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e; // already recorded: the first record (and its time) wins
    }
  }

  async listFavourites(opts: { since?: string } = {}): Promise<FavouriteRecord[]> {
    const shards = await Promise.all(
      Array.from({ length: FAV_SHARDS }, (_, s) => this.db.queryPk(this.db.usersTable, keys.favPk(s), true)),
    );
    const out = shards
      .flat()
      .map((i) => ({ userId: i.userId as number, movieId: i.movieId as number, at: i.at as string }))
      .filter((f) => opts.since === undefined || f.at >= opts.since);
    out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.userId - b.userId || a.movieId - b.movieId));
    return out;
  }
}
