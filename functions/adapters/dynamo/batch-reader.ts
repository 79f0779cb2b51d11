// BatchGetItem of known keys on one table: ≤ 100 keys per request (chunks sent in parallel), UnprocessedKeys
// (DynamoDB returns them under load or past 16 MB a response) re-sent with capped exponential backoff and full
// jitter. Throttling errors are not retried here: the API maps them to 503 + Retry-After, as for every read.
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BATCH_GET_KEYS } from './layout';

export interface BatchGetOptions {
  /** attempts per chunk, first included (default 5) */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  consistent?: boolean;
  /** ProjectionExpression (with its attribute names): read only these attributes */
  projection?: { expression: string; names?: Record<string, string> };
  /** called once per request sent (for request counts) */
  onRequest?: () => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class BatchGetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchGetError';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The items that exist among `keys` (any order; missing keys are simply absent). */
export async function batchGet(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  opts: BatchGetOptions = {},
): Promise<Record<string, unknown>[]> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const base = opts.baseDelayMs ?? 20;
  const cap = opts.maxDelayMs ?? 1000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_KEYS));

  const readChunk = async (chunk: Record<string, unknown>[]) => {
    const out: Record<string, unknown>[] = [];
    let pending = chunk;
    for (let attempt = 1; ; attempt++) {
      opts.onRequest?.();
      const res = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: opts.consistent ?? false,
              ProjectionExpression: opts.projection?.expression,
              ExpressionAttributeNames: opts.projection?.names,
            },
          },
        }),
      );
      out.push(...((res.Responses?.[table] ?? []) as Record<string, unknown>[]));
      const left = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      if (left.length === 0) return out;
      if (attempt >= maxAttempts) {
        throw new BatchGetError(`BatchGetItem on ${table} left ${left.length} key(s) unprocessed after ${maxAttempts} attempts.`);
      }
      pending = left;
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** attempt)));
    }
  };
  return (await Promise.all(chunks.map(readChunk))).flat();
}
