// BatchWriteItem in chunks of 25, several chunks in flight, UnprocessedItems (and throttling errors) retried
// with capped exponential backoff and full jitter; after the last attempt it fails loudly so the caller (the
// training Lambda) throws and Lambda retries the whole, idempotent, publish.
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isThrottle } from '../aws';

export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

export interface BatchWriteOptions {
  /** chunks in flight (default 8) */
  concurrency?: number;
  /** attempts per chunk, first included (default 8) */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BatchWriteStats {
  items: number;
  requests: number;
  retriedItems: number;
}

export class BatchWriteError extends Error {
  constructor(
    message: string,
    public readonly unprocessed: number,
  ) {
    super(message);
    this.name = 'BatchWriteError';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function batchWrite(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: WriteRequest[],
  opts: BatchWriteOptions = {},
  stats: BatchWriteStats = { items: 0, requests: 0, retriedItems: 0 },
): Promise<BatchWriteStats> {
  const concurrency = opts.concurrency ?? 8;
  const maxAttempts = opts.maxAttempts ?? 8;
  const base = opts.baseDelayMs ?? 50;
  const cap = opts.maxDelayMs ?? 5000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;

  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));

  const writeChunk = async (chunk: WriteRequest[]) => {
    let pending = chunk;
    for (let attempt = 1; ; attempt++) {
      let unprocessed: WriteRequest[] = [];
      try {
        stats.requests++;
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        unprocessed = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
      } catch (e) {
        if (!isThrottle(e)) throw e;
        unprocessed = pending;
      }
      stats.items += pending.length - unprocessed.length;
      if (unprocessed.length === 0) return;
      if (attempt >= maxAttempts) {
        throw new BatchWriteError(
          `BatchWriteItem on ${table} left ${unprocessed.length} item(s) unprocessed after ${maxAttempts} attempts; the publish is incomplete and the active model is unchanged.`,
          unprocessed.length,
        );
      }
      stats.retriedItems += unprocessed.length;
      pending = unprocessed;
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** attempt)));
    }
  };

  let next = 0;
  let failed = false;
  const workers = Array.from({ length: Math.min(concurrency, chunks.length) }, async () => {
    while (!failed && next < chunks.length) {
      try {
        await writeChunk(chunks[next++]);
      } catch (e) {
        failed = true; // stop the other workers from starting new chunks
        throw e;
      }
    }
  });
  await Promise.all(workers);
  return stats;
}
