// The distributed training's two items in the clusters table: the training status the API shows, and the
// single-flight lease (pk `lease`, sk `training`) — the same item the single-function training takes, so
// one training runs at a time whichever path it takes.
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TrainingLease, TrainingStatus, TrainingStatusStore } from '../../ports/training-run';
import { TRAINING_LEASE_KEY, TRAINING_STATUS_KEY } from '../../shared/resources';
import { isConditionalFailure } from '../aws';

export class DynamoTrainingStatus implements TrainingStatusStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(): Promise<TrainingStatus | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: { ...TRAINING_STATUS_KEY } }));
    if (!res.Item) return null;
    const { pk: _pk, sk: _sk, ...status } = res.Item;
    return status as TrainingStatus;
  }

  async update(version: string, patch: Partial<TrainingStatus>, opts: { create?: boolean } = {}): Promise<void> {
    if (opts.create) {
      // a new training replaces the last one's status; the same one (a redelivered upload) keeps its own
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...TRAINING_STATUS_KEY, ...patch, version },
            ConditionExpression: 'attribute_not_exists(pk) OR #v <> :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':v': version },
          }),
        );
      } catch (e) {
        if (!isConditionalFailure(e)) throw e;
      }
      return;
    }
    const entries = Object.entries(patch).filter(([k, v]) => v !== undefined && k !== 'version');
    if (entries.length === 0) return;
    const names: Record<string, string> = { '#v': 'version' };
    const values: Record<string, unknown> = { ':v': version };
    entries.forEach(([k, v], i) => {
      names[`#a${i}`] = k;
      values[`:a${i}`] = v;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { ...TRAINING_STATUS_KEY },
          UpdateExpression: `SET ${entries.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
          // only the training this item describes may change it (a late step of an older run may not)
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
    }
  }
}

export class DynamoTrainingLease implements TrainingLease {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(holder: string, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(this.now() / 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...TRAINING_LEASE_KEY, holder, expiresAt: now + ttlSeconds },
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :h OR expiresAt < :now',
          ExpressionAttributeValues: { ':h': holder, ':now': now },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw e;
    }
  }

  async release(holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { ...TRAINING_LEASE_KEY }, ConditionExpression: 'holder = :h', ExpressionAttributeValues: { ':h': holder } }),
      );
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
    }
  }
}
