// Lambda functions as separate worker processes (the bench): each process is one warm Lambda container,
// running one invocation at a time with the real handler of its role. Per invocation it reports its peak
// resident memory (VmHWM, reset before each invocation: a warm container's garbage counts, as in Lambda), its
// S3 requests and bytes, and its duration; the pool keeps the maxima and totals per step.
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { Role } from '../functions/handlers/train-steps';

export interface StepStats {
  invocations: number;
  /** the largest peak RSS of one invocation, MiB */
  maxRssMiB: number;
  seconds: number;
  maxSeconds: number;
  s3: { gets: number; getBytes: number; puts: number; putBytes: number };
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; stack?: string };
  rssKiB: number;
  ms: number;
  io: StepStats['s3'];
}

interface Worker {
  proc: ChildProcess;
  busy: boolean;
  /** the invocation in flight: failed if the process dies */
  fail?: (e: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Array<() => void> = [];
  private readonly pending = new Map<number, (r: Reply) => void>();
  private nextId = 0;
  readonly stats = new Map<string, StepStats>();

  private constructor(private readonly roles: ReadonlySet<Role>) {}

  /** `size` processes running `roles`, with the functions' environment `env` (and Node options). */
  static async start(opts: { size: number; roles: Role[]; env: NodeJS.ProcessEnv; maxOldSpaceMiB?: number }): Promise<WorkerPool> {
    const { bundle } = require(path.join(__dirname, '..', 'bin', 'run-ts.js')) as { bundle: (entry: string) => string };
    const entry = bundle('local/worker-child.ts');
    const pool = new WorkerPool(new Set(opts.roles));
    for (let i = 0; i < opts.size; i++) {
      const proc = fork(entry, [], {
        env: { ...process.env, ...opts.env },
        execArgv: opts.maxOldSpaceMiB ? [`--max-old-space-size=${opts.maxOldSpaceMiB}`] : [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      proc.on('message', (m: Reply) => {
        const done = pool.pending.get(m.id);
        pool.pending.delete(m.id);
        done?.(m);
      });
      const w: Worker = { proc, busy: false };
      proc.on('exit', (code, signal) => w.fail?.(new Error(`worker process exited (${signal ?? code}): out of memory or killed`)));
      pool.workers.push(w);
    }
    return pool;
  }

  runs(role: Role): boolean {
    return this.roles.has(role);
  }

  async invoke(role: Role, event: unknown): Promise<unknown> {
    const worker = await this.acquire();
    // a failed Map iteration ends the execution while its sibling iterations are still queued (the offline
    // executor does not cancel them): once the pool is stopped they fail here instead of writing to a closed channel
    if (this.stopped) {
      this.release(worker);
      throw new Error('worker pool stopped');
    }
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, resolve);
      worker.fail = reject;
      worker.proc.send({ id, role, event });
    }).finally(() => {
      worker.fail = undefined;
      this.release(worker);
    });
    this.record((event as { step?: string }).step ?? role, reply);
    if (!reply.ok) {
      const err = new Error(reply.error!.message);
      err.name = reply.error!.name;
      err.stack = reply.error!.stack;
      throw err;
    }
    return reply.result;
  }

  private record(step: string, r: Reply): void {
    const s = this.stats.get(step) ?? { invocations: 0, maxRssMiB: 0, seconds: 0, maxSeconds: 0, s3: { gets: 0, getBytes: 0, puts: 0, putBytes: 0 } };
    s.invocations++;
    s.maxRssMiB = Math.max(s.maxRssMiB, r.rssKiB / 1024);
    s.seconds += r.ms / 1000;
    s.maxSeconds = Math.max(s.maxSeconds, r.ms / 1000);
    for (const k of Object.keys(s.s3) as Array<keyof StepStats['s3']>) s.s3[k] += r.io[k];
    this.stats.set(step, s);
  }

  private acquire(): Promise<Worker> {
    const free = this.workers.find((w) => !w.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.queue.push(() => resolve(this.acquire())));
  }

  private release(w: Worker): void {
    w.busy = false;
    this.queue.shift()?.();
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    for (const next of this.queue.splice(0)) next();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.proc.exitCode !== null) return resolve();
            w.proc.once('exit', () => resolve());
            w.proc.kill();
          }),
      ),
    );
  }
}
