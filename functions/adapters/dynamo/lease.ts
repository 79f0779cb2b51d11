// The training lease: one item (clusters table, lease / training) taken with a conditional put — free, expired,
// or already ours — and deleted on release only while still ours. Replaces reserved concurrency, which new
// accounts cannot spare (docs/DEPLOY.md, "Quotas").
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TrainingLease } from '../../ports';
import { isConditionalFailure } from '../aws';
import type { DynamoContext } from './context';
import { keys } from './layout';

export class DynamoTrainingLease implements TrainingLease {
  constructor(private readonly db: DynamoContext) {}

  async acquire(holder: string, untilMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.db.clustersTable,
          Item: { ...keys.lease(), holder, leaseUntil: untilMs, expiresAt: Math.ceil(untilMs / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR holder = :holder',
          ExpressionAttributeValues: { ':now': this.db.now(), ':holder': holder },
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return false;
    }
  }

  async holder(): Promise<string | null> {
    const item = (await this.db.get(this.db.clustersTable, keys.lease(), { consistent: true })) as { holder?: string; leaseUntil?: number } | null;
    return item?.holder && (item.leaseUntil ?? 0) >= this.db.now() ? item.holder : null;
  }

  async release(holder: string): Promise<void> {
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.db.clustersTable,
          Key: keys.lease(),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      )
      .catch((e) => {
        if (!isConditionalFailure(e)) throw e; // expired and taken by another since: nothing of ours to release
      });
  }
}
