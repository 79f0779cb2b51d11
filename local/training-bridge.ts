// The S3 → training Lambda wiring of the CDK stack: s3rver's ObjectCreated events become real-S3 events
// (local/s3-events.ts) queued for the training handler one at a time (in AWS one training runs at a time)
// with Lambda's async-invocation retries after a thrown error. With a journal (local/event-journal.ts) the
// queue is durable: an event is written down before it is queued and forgotten only when its invocation
// ended, so replay() after a restart delivers what a crash interrupted (at-least-once, as S3 → Lambda is).
// The handler is whatever runs the training function: a child process (local/training-runner.ts) in the
// stack, a function in the tests.
import type { Context, S3Event } from 'aws-lambda';
import type { UploadResult as RecordResult } from '../functions/app/upload';
import { decodeS3Key } from '../functions/handlers/train';
import type { EventJournal } from './event-journal';
import { lambdaContext } from './lambda-context';
import { toLambdaS3Events } from './s3-events';

export type TrainHandler = (event: S3Event, context: Context) => Promise<{ results: RecordResult[] }>;

export type BridgeEvent =
  | { type: 'start'; key: string; attempt: number }
  | { type: 'done'; key: string; results: RecordResult[]; seconds: number }
  | { type: 'retry'; key: string; attempt: number; error: Error }
  | { type: 'failed'; key: string; error: Error }
  /** events an earlier run left in the journal, queued again */
  | { type: 'replayed'; keys: string[] };

export interface TrainingBridgeOptions {
  handler: TrainHandler;
  /** retries after a thrown error, like the stack's async-invoke retryAttempts (default 2, Lambda's default) */
  retryAttempts?: number;
  /** delay before retry n (1-based); Lambda waits about a minute, locally a second is enough */
  retryDelayMs?: (attempt: number) => number;
  /** invocation timeout given to the context (default 15 min) */
  timeoutMs?: number;
  onEvent?: (e: BridgeEvent) => void;
  /** durable queue: events survive a crash of the process and are replayed by replay() */
  journal?: EventJournal;
}

interface Queued {
  event: S3Event;
  /** its journal entry */
  id?: string;
}

interface S3EventSource {
  on(event: 'event', cb: (event: { Records: unknown[] }) => void): void;
  removeListener?(event: 'event', cb: (event: { Records: unknown[] }) => void): void;
}

export class TrainingBridge {
  private readonly queue: Queued[] = [];
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
    let id: string | undefined;
    try {
      id = this.opts.journal?.add(event);
    } catch {
      // the queue folder cannot be written (disk full?): still train it now, only not durably
    }
    this.push({ event, id });
  }

  /** Queue again what an earlier run left in the journal (before attach(), so it keeps its order). */
  replay(): number {
    const left = this.opts.journal?.pending() ?? [];
    if (!left.length || this.stopped) return 0;
    this.opts.onEvent?.({ type: 'replayed', keys: left.map((e) => displayKey(e.event.Records[0]?.s3.object.key ?? '')) });
    for (const e of left) this.push(e);
    return left.length;
  }

  private push(q: Queued): void {
    this.queue.push(q);
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

  /** Accept no more events and drop the queued ones from memory (journalled ones stay for the next start;
   * a running invocation is the runner's to stop). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    const emit = this.opts.onEvent ?? (() => undefined);
    const retries = this.opts.retryAttempts ?? 2;
    const delay = this.opts.retryDelayMs ?? (() => 1000);
    for (let q = this.queue.shift(); q && !this.stopped; q = this.queue.shift()) {
      const { event, id } = q;
      const key = displayKey(event.Records[0]?.s3.object.key ?? '');
      for (let attempt = 0; attempt <= retries && !this.stopped; attempt++) {
        emit({ type: 'start', key, attempt });
        const t0 = Date.now();
        try {
          const { results } = await this.opts.handler(event, lambdaContext('movierec-local-train', this.opts.timeoutMs ?? 900_000));
          if (id !== undefined) this.opts.journal?.remove(id);
          emit({ type: 'done', key, results, seconds: (Date.now() - t0) / 1000 });
          break;
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          // stopped mid-invocation: the event stays journalled and is delivered again on the next start
          if (this.stopped) break;
          if (attempt === retries) {
            if (id !== undefined) this.opts.journal?.fail(id);
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
