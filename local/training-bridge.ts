// The S3 → training Lambda wiring of the CDK stack, in-process: s3rver's ObjectCreated events become real-S3
// events (local/s3-events.ts) queued for the training handler one at a time (in AWS the
// training lease does the same) with Lambda's async-invocation retries after a thrown error.
import type { Context, S3Event } from 'aws-lambda';
import type { UploadResult as RecordResult } from '../functions/app/upload';
import { decodeS3Key } from '../functions/handlers/train';
import { lambdaContext } from './lambda-context';
import { toLambdaS3Events } from './s3-events';

export type TrainHandler = (event: S3Event, context: Context) => Promise<{ results: RecordResult[] }>;

export type BridgeEvent =
  | { type: 'start'; key: string; attempt: number }
  | { type: 'done'; key: string; results: RecordResult[]; seconds: number }
  | { type: 'retry'; key: string; attempt: number; error: Error }
  | { type: 'failed'; key: string; error: Error };

export interface TrainingBridgeOptions {
  handler: TrainHandler;
  /** retries after a thrown error, like the stack's async-invoke retryAttempts (default 2, Lambda's default) */
  retryAttempts?: number;
  /** delay before retry n (1-based); Lambda waits about a minute, locally a second is enough */
  retryDelayMs?: (attempt: number) => number;
  /** invocation timeout given to the context (default 15 min) */
  timeoutMs?: number;
  onEvent?: (e: BridgeEvent) => void;
}

interface S3EventSource {
  on(event: 'event', cb: (event: { Records: unknown[] }) => void): void;
  removeListener?(event: 'event', cb: (event: { Records: unknown[] }) => void): void;
}

export class TrainingBridge {
  private readonly queue: S3Event[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: TrainingBridgeOptions) {}

  /** Subscribe to an s3rver instance; returns the unsubscribe function. */
  attach(source: S3EventSource): () => void {
    const listener = (e: { Records: unknown[] }) => {
      for (const event of toLambdaS3Events(e)) this.enqueue(event);
    };
    source.on('event', listener);
    return () => source.removeListener?.('event', listener);
  }

  enqueue(event: S3Event): void {
    if (this.stopped) return;
    this.queue.push(event);
    this.running ??= this.drain().finally(() => {
      this.running = null;
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Accept no more events and drop the queued ones (a running invocation cannot be interrupted). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    const emit = this.opts.onEvent ?? (() => undefined);
    const retries = this.opts.retryAttempts ?? 2;
    const delay = this.opts.retryDelayMs ?? (() => 1000);
    for (let event = this.queue.shift(); event && !this.stopped; event = this.queue.shift()) {
      const key = displayKey(event.Records[0]?.s3.object.key ?? '');
      for (let attempt = 0; attempt <= retries && !this.stopped; attempt++) {
        emit({ type: 'start', key, attempt });
        const t0 = Date.now();
        try {
          const { results } = await this.opts.handler(event, lambdaContext('movierec-local-train', this.opts.timeoutMs ?? 900_000));
          emit({ type: 'done', key, results, seconds: (Date.now() - t0) / 1000 });
          break;
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          if (attempt === retries || this.stopped) {
            emit({ type: 'failed', key, error });
            break;
          }
          emit({ type: 'retry', key, attempt: attempt + 1, error });
          await new Promise((r) => setTimeout(r, delay(attempt + 1)));
        }
      }
    }
  }
}

function displayKey(raw: string): string {
  try {
    return decodeS3Key(raw);
  } catch {
    return raw; // a malformed escape: the handler reports it; the log line shows it as delivered
  }
}
