// The distributed training's status item in the clusters table, which the API shows. The single-flight lease
// is the single-function training's own (adapters/dynamo/lease.ts), so one training runs at a time whichever
// path it takes.
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TrainingStatus, TrainingStatusStore } from '../../ports/training-run';
import { TRAINING_STATUS_KEY } from '../../shared/resources';
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
