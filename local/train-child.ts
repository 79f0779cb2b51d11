// One invocation of the training function in its own process (see local/training-runner.ts): it receives the
// S3 event and the function's environment, builds the training handler exactly as the Lambda does
// (depsFromEnv: stores, params, the input bound from AWS_LAMBDA_FUNCTION_MEMORY_SIZE), runs it, reports
// progress and the result, and exits when the stack lets go of it — or at once if the stack dies.
import { Worker } from 'node:worker_threads';
import { trainModel } from '../functions/core/train';
import * as trainHandler from '../functions/handlers/train';
import { observability } from '../functions/handlers/observability';
import { lambdaContext } from './lambda-context';
import { localTrainingBudget } from './memory';
import type { ChildMessage, InvokeMessage } from './training-runner';

const send = (m: ChildMessage) => new Promise<void>((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));

// the stack went away (stopped, or killed with -9): nothing left to report to
process.on('disconnect', () => process.exit(0));
// ... but 'disconnect' needs this thread's event loop, which a long stretch of K-means may hold for seconds.
// A watchdog thread sees the stack die (this process is handed to another parent) and ends the process at once.
new Worker(
  `const { ppid } = process;
   setInterval(() => {
     if (process.ppid === ppid) return;
     try { process.kill(process.pid, 'SIGKILL'); } catch { process.abort(); }
   }, 200);`,
  { eval: true },
).unref();

process.once('message', (m: InvokeMessage) => {
  void (async () => {
    try {
      const o = observability('train', m.env);
      o.logger.setLogLevel(m.logLevel);
      const deps = trainHandler.depsFromEnv(m.env);
      const handler = trainHandler.makeHandler({
        ...deps,
        memory: m.memory ? localTrainingBudget(m.memory.memoryMb, m.memory.machineMb) : deps.memory,
        ...o,
        train: (source, params, opts) => trainModel(source, params, { ...opts, onProgress: (progress) => void send({ type: 'progress', progress }) }),
      });
      const result = await handler(m.event, lambdaContext('movierec-local-train', m.timeoutMs));
      await send({ type: 'result', result });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      await send({ type: 'error', error: { name: err.name, message: err.message, stack: err.stack } });
    }
    // the stack disconnects once it has the answer; should it never, do not linger
    setTimeout(() => process.exit(0), 30_000).unref();
  })();
});
