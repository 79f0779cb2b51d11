// What every part of the DynamoDB model store shares: the document client, the two table names, the clock,
// and a count of requests by command (the serving budget is "≤ 2 reads per recommendation"; the benchmark
// and the tests read these counts).
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;
type Command = GetCommand | PutCommand | QueryCommand | UpdateCommand | DeleteCommand;

export class DynamoContext {
  /** requests sent, by command name */
  readonly calls: Record<string, number> = {};

  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly usersTable: string,
    readonly clustersTable: string,
    readonly now: () => number,
  ) {}

  count(name: string, n = 1): void {
    this.calls[name] = (this.calls[name] ?? 0) + n;
  }

  send<T>(cmd: Command): Promise<T> {
    // instanceof rather than constructor.name: bundling minifies class names
    const name =
      cmd instanceof GetCommand
        ? 'GetCommand'
        : cmd instanceof QueryCommand
          ? 'QueryCommand'
          : cmd instanceof PutCommand
            ? 'PutCommand'
            : cmd instanceof UpdateCommand
              ? 'UpdateCommand'
              : 'DeleteCommand';
    this.count(name);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return this.doc.send(cmd as any) as Promise<T>;
  }

  /** Every page of a Query. */
  async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const out: Item[] = [];
    let start: Item | undefined;
    do {
      const res = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Item }>(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      out.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Every item of one partition. */
  queryPk(table: string, pk: string, consistent = false): Promise<Item[]> {
    return this.queryAll({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: consistent,
    });
  }

  async get(table: string, key: Item, opts: { consistent?: boolean; projection?: string; names?: Record<string, string> } = {}): Promise<Item | undefined> {
    const res = await this.send<{ Item?: Item }>(
      new GetCommand({
        TableName: table,
        Key: key,
        ConsistentRead: opts.consistent,
        ProjectionExpression: opts.projection,
        ExpressionAttributeNames: opts.names,
      }),
    );
    return res.Item;
  }
}
