// Users of a version in the users table: one head item (cluster, taste mix, newest movies, favourites of
// this version as a set and in the order added, first USER_SHARD_MOVIES movies) plus shards for longer
// histories. The API reads a user with one GetItem
// and writes only a user it creates and the claim of a favourite.
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UserRecord, UserStore } from '../../ports';
import { isConditionalFailure } from '../aws';
import type { DynamoContext } from './context';
import { keys, packFloats, packInts, unpackAscending, unpackFloats, unpackInts } from './layout';

export interface UsersConfig {
  /** favourites a user may add to one version (bounds the user item; default 5000) */
  maxFavouritesPerVersion?: number;
}

export class DynamoUsers implements UserStore {
  readonly favouriteLimit: number;

  constructor(
    private readonly db: DynamoContext,
    cfg: UsersConfig = {},
  ) {
    this.favouriteLimit = cfg.maxFavouritesPerVersion ?? 5000;
  }

  /**
   * One GetItem of the user's head item (its cluster, mix, favourites and first USER_SHARD_MOVIES movies),
   * the same point read as the serving floor; only a user with more movies than that (head.n > 1 parts)
   * costs a Query of the partition as well.
   */
  async getUser(version: string, userId: number, opts: { consistent?: boolean } = {}): Promise<UserRecord | null> {
    const pk = keys.userPk(version, userId);
    const head = await this.db.get(this.db.usersTable, { pk, sk: keys.userSk(0) }, { consistent: opts.consistent });
    if (!head) return null;
    // almost every user is one item: its decoded list is used as is, without a copy
    const movies = unpackAscending(head.m as string);
    if (typeof head.n === 'number' && head.n > 1) {
      const rest = (await this.db.queryPk(this.db.usersTable, pk, opts.consistent)).filter((it) => it.sk !== head.sk);
      rest.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
      for (const it of rest) for (const m of unpackAscending(it.m as string)) movies.push(m);
    }
    const f = head.f as Set<number> | undefined;
    const user: UserRecord = {
      userId,
      cluster: head.c as number,
      movies,
      favourites: f ? [...f].map(Number).sort((a, b) => a - b) : [],
    };
    if (typeof head.x === 'string') user.mix = { clusters: unpackInts(head.x), weights: unpackFloats(head.w as string) };
    if (typeof head.r === 'string') user.recent = unpackInts(head.r);
    if (Array.isArray(head.g)) user.favouritesInOrder = (head.g as unknown[]).map(Number);
    return user;
  }

  async createUser(version: string, userId: number, cluster: number, movieId: number, opts: { taste: boolean }): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.db.usersTable,
          Item: {
            pk: keys.userPk(version, userId),
            sk: keys.userSk(0),
            c: cluster,
            n: 1,
            m: '',
            f: new Set([movieId]),
            g: [movieId],
            ...(opts.taste ? { x: packInts([cluster]), w: packFloats([1]) } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return false;
    }
    // named in the version's manifest, so deleting the version deletes this user too
    await this.db.send(new PutCommand({ TableName: this.db.clustersTable, Item: { pk: keys.manifestPk(version), sk: `new#${userId}`, userId } }));
    return true;
  }

  async claimFavourite(version: string, userId: number, movieId: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.db.usersTable,
          Key: { pk: keys.userPk(version, userId), sk: keys.userSk(0) },
          // the set answers "has it?"; the list keeps the order, which the default model's personal term needs
          // (the favourite is the user's newest movie): both in the one conditional update
          UpdateExpression: 'ADD f :s SET g = list_append(if_not_exists(g, :none), :l)',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(f) OR NOT contains(f, :m))',
          ExpressionAttributeValues: { ':s': new Set([movieId]), ':m': movieId, ':none': [], ':l': [movieId] },
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return false; // claimed before (a concurrent or retried request for the same user and movie)
    }
  }
}
