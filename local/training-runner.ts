// How the local stack invokes the training function. In AWS the training Lambda runs apart from the API
// Lambda: its CPU-bound minutes never hold an API request, and an out-of-memory ends that invocation only.
// The local stack keeps both properties by running each invocation in a fresh child process
// (local/train-child.ts) — like a cold start, the memory returns when it exits — at a lower CPU priority than
// the API, with the Lambda environment of the stage (AWS_LAMBDA_FUNCTION_MEMORY_SIZE included, which sizes
// the training function's input bound). A runner is just the handler's signature: the bridge
// (training-bridge.ts) queues, journals and retries around whichever runner the stack was given (the
// in-process one for tests that fake the handler; another backend can plug in the same way).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import type { Context, S3Event } from 'aws-lambda';
import type { TrainProgress } from '../functions/core/train';
import type { TrainHandler } from './training-bridge';

/** Messages of the child (local/train-child.ts) to the stack. */
export type ChildMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'result'; result: Awaited<ReturnType<TrainHandler>> }
  | { type: 'error'; error: { name: string; message: string; stack?: string } };

/** What the stack sends the child: one invocation. */
export interface InvokeMessage {
  type: 'invoke';
  event: S3Event;
  /** the Lambda environment of the training function */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  logLevel: 'INFO' | 'ERROR';
  /** the memory the process plans with (local/memory.ts localTrainingBudget); none: as the env says */
  memory?: { memoryMb: number; machineMb: number };
}

export interface ChildRunnerOptions {
  /** the training function's environment (tables, bucket, endpoints, TRAINING_PARAMS, memory size) */
  env: NodeJS.ProcessEnv;
  logLevel?: 'INFO' | 'ERROR';
  /** shown in `ps` so a stack's children can be told apart (its data directory) */
  label?: string;
  /** the training memory (MB) and what the machine had free, for the input bound and its message */
  memory?: { memoryMb: number; machineMb: number };
  /** niceness of the training process (default 10: the API, S3 and DynamoDB go first) */
  niceness?: number;
  onProgress?: (p: TrainProgress) => void;
  /** the child's pid, when it starts and (null) when it ends */
  onChild?: (pid: number | null) => void;
}

export interface ChildRunner {
  handler: TrainHandler;
  /** kill a running invocation (its event stays journalled, so the next start retries it) */
  stop(): void;
}

function findRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'bin', 'run-ts.js'))) return d;
    if (path.dirname(d) === d) throw new Error(`cannot find bin/run-ts.js above ${from}`);
  }
}

/** Each invocation in a fresh Node process running local/train-child.ts (bundled by bin/run-ts.js). */
export function childProcessRunner(opts: ChildRunnerOptions): ChildRunner {
  const root = findRoot(__dirname);
  const running = new Set<ChildProcess>();
  const handler: TrainHandler = (event: S3Event, context: Context) =>
    new Promise((resolve, reject) => {
      const child = fork(path.join(root, 'bin', 'run-ts.js'), ['local/train-child.ts', '--stack', opts.label ?? ''], {
        cwd: root,
        // the child's own memory is typed arrays outside the JS heap: no --max-old-space-size here; its input
        // bound follows AWS_LAMBDA_FUNCTION_MEMORY_SIZE like the Lambda's
        execArgv: [],
        env: { ...process.env, ...opts.env },
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      running.add(child);
      if (child.pid !== undefined) {
        opts.onChild?.(child.pid);
        try {
          setPriority(child.pid, opts.niceness ?? 10);
        } catch {
          // not permitted here: the child keeps the stack's priority
        }
      }
      let settled = false;
      const timeoutMs = context.getRemainingTimeInMillis();
      const timer = setTimeout(() => {
        fail(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(0)} seconds`));
        child.kill('SIGKILL');
      }, timeoutMs);
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'progress') opts.onProgress?.(m.progress);
        else if (m.type === 'result' && !settled) {
          settled = true;
          resolve(m.result);
          // the child waits for this to exit, so its exit can never overtake its answer
          child.disconnect();
        } else if (m.type === 'error') {
          fail(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
          child.disconnect();
        }
      });
      child.on('error', (e) => fail(e));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        opts.onChild?.(null);
        // killed by the OOM killer, a crash, stop(): an invocation error, which the bridge retries as Lambda does
        fail(new Error(`the training process exited (${signal ?? `code ${code}`}) before it finished`));
      });
      const invoke: InvokeMessage = { type: 'invoke', event, env: opts.env, timeoutMs, logLevel: opts.logLevel ?? 'ERROR', memory: opts.memory };
      child.send(invoke);
    });
  return {
    handler,
    stop() {
      for (const c of running) c.kill('SIGKILL');
    },
  };
}
