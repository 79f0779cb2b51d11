// Runs kernel ops over all row blocks, on the main thread alone or together with worker threads.
// Workers are started from source text built out of the self-contained kernels (`new Worker(src,
// { eval: true })`), so nothing needs a separate worker file on disk: the same code works under jest
// (TypeScript transformed on the fly), in the CLI's esbuild bundle and in a minified Lambda bundle.
import { Worker } from 'node:worker_threads';
import {
  assignKernel,
  assignSimdKernel,
  assignSeededKernel,
  centresKernel,
  gramKernel,
  inertiaKernel,
  KernelState,
  Kernels,
  runBlocks,
  seedDotKernel,
  seedKernel,
  sumsKernel,
  transposeKernel,
  workerMain,
} from './kernels';

const KERNELS: Kernels = {
  assign: assignKernel,
  assignSimd: assignSimdKernel,
  seedDot: seedDotKernel,
  seed: seedKernel,
  inertia: inertiaKernel,
  sums: sumsKernel,
  assignSeeded: assignSeededKernel,
  transpose: transposeKernel,
  centres: centresKernel,
  gram: gramKernel,
};

export interface Executor {
  readonly threads: number;
  /** runs `op` on every block; resolves when all blocks are done */
  run(op: number, arg?: number): Promise<void>;
  close(): Promise<void>;
}

/** Source of a worker: the kernels as function expressions, then the message loop. */
export function workerSource(): string {
  return [
    "'use strict';",
    "const { parentPort } = require('node:worker_threads');",
    'const K = {',
    `  assign: (${assignKernel.toString()}),`,
    `  assignSimd: (${assignSimdKernel.toString()}),`,
    `  seedDot: (${seedDotKernel.toString()}),`,
    `  seed: (${seedKernel.toString()}),`,
    `  inertia: (${inertiaKernel.toString()}),`,
    `  sums: (${sumsKernel.toString()}),`,
    `  assignSeeded: (${assignSeededKernel.toString()}),`,
    `  transpose: (${transposeKernel.toString()}),`,
    `  centres: (${centresKernel.toString()}),`,
    `  gram: (${gramKernel.toString()}),`,
    '};',
    `const runBlocks = (${runBlocks.toString()});`,
    `const workerMain = (${workerMain.toString()});`,
    'workerMain(parentPort, runBlocks, K);',
  ].join('\n');
}

class InProcess implements Executor {
  readonly threads = 1;
  constructor(private readonly S: KernelState) {}
  async run(op: number, arg = 0): Promise<void> {
    this.S.counter[0] = 0;
    runBlocks(this.S, op, arg, KERNELS);
  }
  async close(): Promise<void> {}
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  left: number;
  error?: Error;
}

class Pool implements Executor {
  private pending: Pending | null = null;
  private constructor(
    private readonly S: KernelState,
    private readonly workers: Worker[],
  ) {}

  get threads(): number {
    return this.workers.length + 1;
  }

  static async start(S: KernelState, nWorkers: number): Promise<Pool> {
    const src = workerSource();
    const workers: Worker[] = [];
    try {
      for (let w = 0; w < nWorkers; w++) workers.push(new Worker(src, { eval: true }));
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const onMsg = (m: { type: string }) => {
                if (m.type !== 'ready') return;
                w.off('error', reject);
                w.off('message', onMsg);
                resolve();
              };
              w.on('message', onMsg);
              w.once('error', reject);
              // the state minus this thread's WebAssembly instance (functions do not cross threads)
              w.postMessage({ type: 'init', state: { ...S, wx: undefined } });
            }),
        ),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw new Error(`K-means worker threads failed to start: ${(e as Error).message}`);
    }
    const pool = new Pool(S, workers);
    for (const w of workers) {
      w.on('message', (m: { type: string; message?: string }) => pool.onMessage(m));
      w.on('error', (e: Error) => pool.fail(e));
      w.on('exit', (code: number) => {
        if (code !== 0) pool.fail(new Error(`a K-means worker exited with code ${code}`));
      });
    }
    return pool;
  }

  private onMessage(m: { type: string; message?: string }): void {
    const p = this.pending;
    if (!p) return;
    if (m.type === 'error') p.error ??= new Error(`K-means worker failed: ${m.message}`);
    if (m.type === 'done' || m.type === 'error') {
      p.left--;
      if (p.left === 0) this.settle();
    }
  }

  private fail(e: Error): void {
    const p = this.pending;
    if (!p) return;
    p.error ??= e;
    this.settle();
  }

  private settle(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (p.error) p.reject(p.error);
    else p.resolve();
  }

  run(op: number, arg = 0): Promise<void> {
    if (this.pending) return Promise.reject(new Error('K-means pool: an op is already running'));
    this.S.counter[0] = 0;
    const done = new Promise<void>((resolve, reject) => {
      this.pending = { resolve, reject, left: this.workers.length };
    });
    for (const w of this.workers) w.postMessage({ type: 'run', op, arg });
    // The main thread claims blocks too; workers join as soon as they receive the message.
    try {
      runBlocks(this.S, op, arg, KERNELS);
    } catch (e) {
      // wait for the workers to finish before reporting, so no op runs concurrently
      return done.then(
        () => Promise.reject(e),
        () => Promise.reject(e),
      );
    }
    return done;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Threads actually used: never more than there are row blocks. */
export function effectiveThreads(threads: number, nBlocks: number): number {
  return Math.max(1, Math.min(threads, nBlocks));
}

/** threads ≤ 1 ⇒ in-process; otherwise the main thread plus threads − 1 workers. */
export async function startExecutor(S: KernelState, threads: number): Promise<Executor> {
  const t = effectiveThreads(threads, S.nBlocks);
  if (t === 1) return new InProcess(S);
  return Pool.start(S, t - 1);
}
